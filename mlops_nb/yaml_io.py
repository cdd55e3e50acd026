"""The YAML adapter: safe loading only, errors with file and line.

Numbers are read as YAML 1.2 reads them (its core schema, section 10.3.2): ``1e-3``, ``1E5`` and
``2.5e3`` are floats, where PyYAML's YAML 1.1 rules would make them text (1.1 wants a dot and a
signed exponent: ``1.0e-3``). ``-p`` list and dict values also read ``None``, ``inf`` and ``nan``
as papermill reads a ``-p`` value (``param_loads``).
"""

from __future__ import annotations

import functools
import math
import os
import re
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
    UniqueKeyLoader.add_implicit_resolver(FLOAT, _FLOAT_12, list("-+.0123456789"))
    return UniqueKeyLoader


FLOAT, NULL = "tag:yaml.org,2002:float", "tag:yaml.org,2002:null"
# YAML 1.2 core schema floats with an exponent, which YAML 1.1 reads as text (1e-3, 5E+2, .5e1);
# the 1.1 resolver, tried first, still reads the rest (1.5, 1.0e-3, .inf)
_FLOAT_12 = re.compile(r"^[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)[eE][-+]?[0-9]+$")
# papermill's -p spellings (Python's float() and None), inside a -p list or dict
_PY_FLOAT = re.compile(r"^[-+]?(?i:inf|infinity|nan)$")
_PY_NONE = re.compile(r"^None$")
_NON_FINITE = (".inf", ".nan", "inf", "nan")


@functools.cache
def _param_loader() -> Any:
    """``_loader`` that also reads ``None``, ``inf``, ``-inf`` and ``nan`` as papermill reads a
    ``-p`` value (None and floats), so ``-p xs "[1e-3, None]"`` holds what ``-p x 1e-3`` does."""

    class ParamLoader(_loader()):  # type: ignore[misc]
        pass

    ParamLoader.add_implicit_resolver(FLOAT, _PY_FLOAT, list("-+iInN"))
    ParamLoader.add_implicit_resolver(NULL, _PY_NONE, ["N"])
    return ParamLoader


def _finite_float(loader: Any, node: Any) -> float:
    """A YAML float that is the number written: ``1.0e+400`` (inf) or ``1.0e-400`` (0.0) is
    refused with its line, as ``-p`` refuses them; ``.inf`` and ``.nan`` keep their meaning."""
    import yaml

    value: float = loader.construct_yaml_float(node)
    text = str(node.value).lower().replace("_", "")
    if text.lstrip("+-").startswith(_NON_FINITE):
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
    """Parse YAML text; a syntax error names the source and line (``ConfigError``)."""
    return _load(text, source, _loader())


def param_loads(text: str, *, source: str) -> Any:
    """``loads`` for a ``-p`` list or dict value: ``None``, ``inf`` and ``nan`` (any case, with a
    sign) are papermill's None and floats there too. ``ConfigError`` as ``loads``."""
    return _load(text, source, _param_loader())


def _load(text: str, source: str, loader: Any) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=loader)
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
