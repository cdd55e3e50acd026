"""Parameter values from the command line, following papermill's flags.

``-p NAME VALUE`` is parsed like papermill (``True``/``False``/``None``/int/float, else text), then
read with the parameter's declared type in mind: a ``str`` parameter keeps the text as given, and a
``list``/``dict`` parameter parses the text as YAML/JSON (``-p layers "[64, 32]"``).
``-r NAME VALUE`` is always the raw string; ``-y YAML`` and ``-f FILE.yaml`` give a mapping.
Later flags win over earlier ones, in the order given.

A number too large or too small for a float (``1e400``, ``1e-400``) is refused instead of
becoming ``inf`` or ``0.0`` unseen; ``inf``, ``-inf`` and ``nan`` written as such stay what
papermill makes of them (``float("inf")``...). Integers are exact at any size.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from typing import Any

from mlops_nb import yaml_io
from mlops_nb.errors import ConfigError, ParameterError, UsageError
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


_NON_FINITE = ("inf", "infinity", "nan")
_INTEGER = re.compile(r"[+-]?[0-9][0-9_]*")


def _exact(text: str, value: Any, name: str) -> Any:
    """``value`` (``papermill_parse(text)``), unless it is a float that is not the number written:
    then ``ParameterError``."""
    if not isinstance(value, float) or text.strip().lstrip("+-").lower() in _NON_FINITE:
        return value
    mantissa = text.lower().partition("e")[0]
    if math.isfinite(value) and (value or not any(c in "123456789" for c in mantissa)):
        return value
    shown = repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text)} characters)"
    if _INTEGER.fullmatch(text.strip()):  # past Python's limit of digits of an int from text
        raise ParameterError(
            f"parameter {name!r}: {shown} is an integer of more than "
            f"{sys.get_int_max_str_digits()} digits, the most Python reads (and a record "
            "writes); give a smaller number."
        )
    became = "inf" if math.isinf(value) else "0.0"
    raise ParameterError(
        f"parameter {name!r}: {shown} is out of the range of a float (about 1e-308 to 1e308), "
        f"so it would become {became}; give a number in range (or 'inf' for infinity)."
    )


def typed_parse(
    text: str, name: str, params: NotebookParams | None, *, source: str | None = None
) -> Any:
    """``-p`` parsing that respects the declared type of the parameter. Raises
    ``ParameterError`` for a number a float cannot hold (``1e400``), ``ConfigError`` for a list
    or dict value that is not YAML (``source`` names where it was given: ``-p NAME``)."""
    spec = params.get(name) if params else None
    value = papermill_parse(text)
    if spec is None:
        return _exact(text, value, name)
    kinds = spec.type.kinds
    if "str" in kinds and not isinstance(value, str) and not spec.type.accepts(value):
        return text
    if kinds == ("str",) and value is not None:
        return text
    if spec.type.choices is not None and text in [
        c for c in spec.type.choices if isinstance(c, str)
    ]:
        return text
    if isinstance(value, str) and ({"list", "dict", "tuple"} & set(kinds)):
        parsed = yaml_io.param_loads(text, source=source or f"-p {name}")
        if isinstance(parsed, (list, dict)):
            return parsed
    if isinstance(value, str) and "bool" in kinds and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return _exact(text, value, name)


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
