"""A report step's options (``report: {...}`` in a pipeline file), typed and checked when the
file is read: an unknown or mistyped option is a problem of the file, named with the valid ones,
before any step runs. They are ``report.build.build_report``'s keywords (a test keeps the two
equal); ``output`` is relative to the pipeline file."""

from __future__ import annotations

import difflib
from typing import Any

_FILTER = (str, type(None))  # a filter left empty (`sort:`) is no filter
# A report step's options: `report.build.build_report`'s keywords (output relative to the file).
REPORT_OPTIONS: dict[str, tuple[type, ...]] = {
    "output": (str,),
    "title": (str,),
    "notebook": _FILTER,
    "sweep": _FILTER,
    "pipeline": _FILTER,
    "status": _FILTER,
    "where": _FILTER,
    "sort": _FILTER,
    "ascending": (bool,),
    "metrics": (str, list),
}
_TYPE_NAMES = {str: "a string", bool: "true or false", list: "a list of names"}


def parse_report(raw: Any, where: str, problems: list[str]) -> dict[str, Any]:
    """A report step's options, checked against ``REPORT_OPTIONS`` (problems are appended)."""
    if not isinstance(raw, dict):
        return {}
    problems += [f"{where}: {m}" for key, value in raw.items() if (m := _problem(key, value))]
    return dict(raw)


def _problem(key: Any, value: Any) -> str | None:
    kinds = REPORT_OPTIONS.get(key)
    if kinds is None:
        close = difflib.get_close_matches(str(key), list(REPORT_OPTIONS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown report option {key!r}{hint}; valid: {', '.join(REPORT_OPTIONS)}"
    if not isinstance(value, kinds) or (
        isinstance(value, list) and not all(isinstance(v, str) for v in value)
    ):
        what = " or ".join(_TYPE_NAMES[k] for k in kinds if k in _TYPE_NAMES)
        return f"report option {key!r} must be {what}, got {value!r}"
    return None
