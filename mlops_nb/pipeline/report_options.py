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
    "cache": (bool,),
}
_TYPE_NAMES = {str: "a string", bool: "true or false", list: "a list of names"}
_FLAGS = {"asc": "ascending", "desc": "ascending", "column": "sort"}  # the CLI's names for them


def parse_report(raw: Any, where: str, problems: list[str]) -> dict[str, Any]:
    """A report step's options, checked against ``REPORT_OPTIONS`` and, for ``where`` and
    ``status``, against the filter grammar and the known statuses (problems are appended).
    ``report:`` left empty (None) is a report with the default options."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(
            f"{where}: 'report' must be a mapping of options (e.g. {{output: report.html}}), "
            f"got {raw!r}"
        )
        return {}
    problems += [f"{where}: {m}" for key, value in raw.items() if (m := _problem(key, value))]
    return dict(raw)


def _problem(key: Any, value: Any) -> str | None:
    kinds = REPORT_OPTIONS.get(key)
    if kinds is None:
        close = difflib.get_close_matches(str(key), list(REPORT_OPTIONS), n=1)
        guess = _FLAGS.get(str(key)) or (close[0] if close else None)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        return f"unknown report option {key!r}{hint}; valid: {', '.join(REPORT_OPTIONS)}"
    if not isinstance(value, kinds) or (
        isinstance(value, list) and not all(isinstance(v, str) for v in value)
    ):
        what = " or ".join(_TYPE_NAMES[k] for k in kinds if k in _TYPE_NAMES)
        return f"report option {key!r} must be {what}, got {value!r}"
    return _filter_problem(key, value) if isinstance(value, str) else None


def _filter_problem(key: str, value: str) -> str | None:
    """An empty filter (``sweep: ""``; ``sweep:`` with no value is no filter), a ``where`` that
    the filter grammar refuses or a ``status`` that is not one: what ``collect`` would refuse
    (``results.filter.empty``, ``results.where.parse``, ``RunFilter``)."""
    from mlops_nb.errors import UsageError
    from mlops_nb.results.filter import FIELDS, RunFilter, empty
    from mlops_nb.results.where import parse

    unset = "for the step's default (this pipeline's runs)" if key == "pipeline" else "(no filter)"
    if key in FIELDS and (problem := empty(key, value, unset)):
        return f"report option {key!r}: {value!r} {problem}"
    if key in ("sort", "output", "metrics") and not all(
        part.strip() for part in (value.split(",") if key == "metrics" else [value])
    ):
        return f"report option {key!r}: {value!r} is empty; give a value or leave the option out"
    try:
        if key == "where":
            parse(value)
        elif key == "status":
            RunFilter(status=value)
    except UsageError as e:
        return f"report option {key!r}: {e.message.removeprefix('--where ').removeprefix('where=')}"
    return None
