"""Parameter values from the command line, following papermill's flags.

``-p NAME VALUE`` is parsed like papermill (``True``/``False``/``None``/int/float, else text), then
read with the parameter's declared type in mind: a ``str`` parameter keeps the text as given, and a
``list``/``dict`` parameter parses the text as YAML/JSON (``-p layers "[64, 32]"``).
``-r NAME VALUE`` is always the raw string; ``-y YAML`` and ``-f FILE.yaml`` give a mapping.
Later flags win over earlier ones, in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlops_nb import yaml_io
from mlops_nb.errors import ConfigError, UsageError
from mlops_nb.notebook.params import NotebookParams


def papermill_parse(text: str) -> Any:
    """papermill's ``-p`` value parsing."""
    if text == "True":
        return True
    if text == "False":
        return False
    if text == "None":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def typed_parse(text: str, name: str, params: NotebookParams | None) -> Any:
    """``-p`` parsing that respects the declared type of the parameter."""
    spec = params.get(name) if params else None
    value = papermill_parse(text)
    if spec is None:
        return value
    kinds = spec.type.kinds
    if "str" in kinds and not isinstance(value, str) and not spec.type.accepts(value):
        return text
    if kinds == ("str",) and value is not None:
        return text
    if spec.type.choices is not None and text in [
        c for c in spec.type.choices if isinstance(c, str)
    ]:
        return text
    if isinstance(value, str) and ({"list", "dict"} & set(kinds)):
        parsed = yaml_io.loads(text, source=f"-p {name}")
        if isinstance(parsed, (list, dict)):
            return parsed
    if isinstance(value, str) and "bool" in kinds and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return value


ParamFlag = tuple[str, str, str | None]  # (flag, name-or-text, value)


def collect_values(flags: Sequence[ParamFlag], params: NotebookParams | None) -> dict[str, Any]:
    """Merge ``-p/-r/-y/-f`` flags, in order, into one mapping."""
    values: dict[str, Any] = {}
    for flag, first, second in flags:
        if flag == "-p":
            values[first] = typed_parse(second or "", first, params)
        elif flag == "-r":
            values[first] = second or ""
        elif flag == "-y":
            values.update(_mapping(yaml_io.loads(first, source="-y"), "-y"))
        elif flag == "-f":
            values.update(_mapping(yaml_io.load(first), first))
        else:  # pragma: no cover - argparse only produces the four flags
            raise UsageError(f"unknown parameter flag {flag}")
    return values


def _mapping(data: Any, source: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: parameters must be a YAML mapping of name: value, got {type(data).__name__}."
        )
    return {str(k): v for k, v in data.items()}
