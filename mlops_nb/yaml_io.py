"""The YAML adapter: safe loading only, errors with file and line."""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Any

from mlops_nb.errors import ConfigError


@functools.cache
def _loader() -> Any:
    """PyYAML's safe loader (the C one when built) that refuses a key given twice in a mapping:
    PyYAML keeps the last value silently (a step pasted twice in pipeline.yaml would vanish);
    YAML 1.2 (section 3.2.1.1) requires keys to be unique. Merge keys (``<<``) may still be
    overridden, as the merge-key spec says."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class UniqueKeyLoader(base):  # type: ignore[valid-type,misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                _refuse_duplicates(self, node)
            return super().construct_mapping(node, deep=deep)

    UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _finite_float)
    return UniqueKeyLoader


def _finite_float(loader: Any, node: Any) -> float:
    """A YAML float that is the number written: ``1.0e+400`` (inf) or ``1.0e-400`` (0.0) is
    refused with its line, as ``-p`` refuses them; ``.inf`` and ``.nan`` keep their meaning."""
    import yaml

    value: float = loader.construct_yaml_float(node)
    text = str(node.value).lower().replace("_", "")
    if text.lstrip("+-").startswith((".inf", ".nan")):
        return value
    mantissa = text.partition("e")[0]
    if math.isfinite(value) and (value or not any(c in "123456789" for c in mantissa)):
        return value
    became = "inf" if math.isinf(value) else "0.0"
    raise yaml.constructor.ConstructorError(
        problem=f"{node.value} is out of the range of a float (about 1e-308 to 1e308), so it "
        f"would become {became}; give a number in range (or .inf for infinity)",
        problem_mark=node.start_mark,
    )


def _refuse_duplicates(loader: Any, node: Any) -> None:
    import yaml

    first: dict[Any, Any] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            mark = first.setdefault(key, key_node.start_mark)
        except TypeError:  # an unhashable key: the base constructor says so
            continue
        if mark is not key_node.start_mark:
            raise yaml.constructor.ConstructorError(
                problem=f"key {key!r} is given twice (first at line {mark.line + 1}); each key "
                "may appear once in a mapping: rename or remove one",
                problem_mark=key_node.start_mark,
            )


def loads(text: str, *, source: str) -> Any:
    """Parse YAML text; a syntax error names the source and line."""
    import yaml

    try:
        return yaml.load(text, Loader=_loader())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}.") from None


def load(path: str | os.PathLike[str]) -> Any:
    """Read and parse a YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot read it: {e}.") from None
    return loads(text, source=str(p))


def dumps(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
