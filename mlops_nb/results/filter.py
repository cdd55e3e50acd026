"""``RunFilter``: which runs a listing reads, one value for ``collect``, the report and ``export``.

The six filters of the README's "collect" section: ``notebook`` (the notebook a path names
from the current folder, else a recorded path or a file name: ``_NOTEBOOK``), ``sweep`` (a
sweep id, else a prefix of one: ``s1`` is sweep ``s1`` alone when there is one, never ``s10``
with it), ``pipeline`` (the runs of that pipeline's ``name:``), ``step`` (the runs of a
pipeline step of that name), ``status`` (one status or several: a list or ``"ok,failed"``) and
``where`` (a filter expression, ``mlops_nb.results.where``). All but ``where`` are SQL over the
runs index (``sql``); ``where`` needs the collect table's columns and is applied to the
DataFrame.

The public functions keep their keyword arguments and accept ``filter=RunFilter(...)`` as well;
``RunFilter.of`` turns either into the one value, once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypedDict

from mlops_nb.errors import UsageError

STATUSES = ("running", "ok", "failed", "timeout", "interrupted", "lost")
FIELDS = ("notebook", "sweep", "pipeline", "status", "where", "step")
# What each filter takes (the message refusing an empty one says it).
WANTS = {
    "notebook": "a notebook's path or file name",
    "sweep": "a sweep id or a prefix of one",
    "pipeline": "a pipeline's name",
    "status": f"statuses separated by commas ({', '.join(STATUSES)})",
    "where": 'a filter expression (e.g. "f1 > 0.8")',
    "step": "a pipeline step's name",
}


def split(values: str | Iterable[str]) -> list[str]:
    """``"a,b"`` or ``["a", "b,c"]`` → ``["a", "b", "c"]`` (blanks dropped)."""
    items = [values] if isinstance(values, str) else list(values)
    return [p.strip() for v in items for p in v.split(",") if p.strip()]


def empty(
    field: str, value: str | Sequence[str] | None, unset: str = "to select every run"
) -> str | None:
    """Why ``value`` is an empty ``field`` filter (blank, or, for ``status``, with a blank item
    such as ``"ok,"``), or None when it is not. A command line refuses them rather than reading
    every run: ``--sweep "$ID"`` with ``ID`` unset is a mistake, not a wish for no filter.
    ``unset``: what leaving the filter out does where it is given (a command: every run)."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    if field == "status":
        items = [p for v in items for p in v.split(",")] or [""]
    if all(p.strip() for p in items):
        return None
    what = "an empty status" if any(p.strip() for p in items) else "nothing"
    return f"names {what}; give {WANTS[field]}, or leave it out {unset}"


# A notebook is the file its path names from here (or the path an older record, without its
# absolute path, recorded) when a run has it: `nb.py` is ./nb.py, not d2/nb.py recorded as
# `nb.py` by a run started in d2/ (review5 item 6). Else, as before, a recorded path or a file
# name (`.ipynb` optional). `IN` is NULL, not true, for a value absent next to NULLs: ELSE.
_ID = "coalesce(nullif(notebook_abspath, ''), notebook)"
_NOTEBOOK = (
    f"(CASE WHEN ? IN (SELECT {_ID} FROM runs) OR ? IN (SELECT {_ID} FROM runs) "
    f"THEN {_ID} IN (?, ?) ELSE (notebook = ? OR notebook_name IN (?, ?)) END)"
)


class FilterKeywords(TypedDict, total=False):
    """The filter keywords of ``collect`` (``**keywords: Unpack[FilterKeywords]``)."""

    notebook: str | None
    sweep: str | None
    pipeline: str | None
    status: str | Sequence[str] | None
    where: str | None
    step: str | None


@dataclasses.dataclass(frozen=True)
class RunFilter:
    """Which runs to read; every field None (the default), empty or blank (``where=" "``) means
    every run, as MLflow's ``search_runs(filter_string="")`` (the CLI refuses an empty flag).

    ``status`` is kept as a tuple of statuses; an unknown one, or a blank one in a list of them
    (``"ok,"``), raises ``UsageError`` here, before anything is read.
    """

    notebook: str | None = None
    sweep: str | None = None
    pipeline: str | None = None
    status: tuple[str, ...] | None = None
    where: str | None = None
    step: str | None = None

    def __init__(
        self,
        notebook: str | None = None,
        sweep: str | None = None,
        pipeline: str | None = None,
        status: str | Sequence[str] | None = None,
        where: str | None = None,
        step: str | None = None,
    ) -> None:
        if isinstance(status, str) and not status.strip():
            status = None
        if status and (problem := empty("status", status)):
            raise UsageError(f"status={status!r} {problem}.")
        statuses = tuple(split(status)) if status else None
        unknown = [s for s in statuses or () if s not in STATUSES]
        if unknown:
            raise UsageError(
                f"unknown status {', '.join(unknown)!s}; choose from {', '.join(STATUSES)}."
            )
        for name, value in zip(
            FIELDS, (notebook, sweep, pipeline, statuses, where, step), strict=True
        ):
            blank = isinstance(value, str) and not value.strip()
            object.__setattr__(self, name, None if blank else value or None)

    @classmethod
    def of(cls, filter: RunFilter | None = None, **keywords: Any) -> RunFilter:
        """The filter of a public function's ``filter=`` and its filter keywords (``notebook``,
        ``sweep``, ``pipeline``, ``status``, ``where``): either one, not both (``TypeError``)."""
        unknown = set(keywords) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown filter keywords: {', '.join(sorted(unknown))}")
        given = {k: v for k, v in keywords.items() if v is not None}
        if filter is None:
            return cls(**given)
        if not isinstance(filter, RunFilter):
            raise TypeError(f"filter= takes a RunFilter, not {type(filter).__name__}")
        if given:
            raise TypeError(f"give filter= or {', '.join(sorted(given))}, not both")
        return filter

    def __bool__(self) -> bool:
        """Whether any filter is set."""
        return any(getattr(self, name) for name in FIELDS)

    def sql(self) -> tuple[str, list[Any]]:
        """The SQL condition over the runs index for every filter but ``where``, and its
        arguments: ``("", [])`` when there is none."""
        conds: list[str] = []
        args: list[Any] = []
        if self.notebook:
            conds.append(_NOTEBOOK)
            nb, path = self.notebook, str(Path(self.notebook).resolve())
            args += [path, nb, path, nb, nb, nb, f"{nb}.ipynb"]
        if self.sweep:  # an id is that sweep alone, else the sweeps it is a prefix of
            conds.append(  # (`IN` is NULL, not true, for an id absent next to NULL ids: ELSE)
                "(CASE WHEN ? IN (SELECT sweep_id FROM runs) THEN sweep_id = ? "
                "ELSE substr(sweep_id, 1, ?) = ? END)"
            )
            args += [self.sweep, self.sweep, len(self.sweep), self.sweep]
        if self.pipeline:
            conds.append("json_extract(pipeline, '$.name') = ?")
            args.append(self.pipeline)
        if self.step:  # as a report section's step: the key of a pipeline object
            conds.append(
                "(pipeline IS NOT NULL AND json_valid(pipeline) AND json_type(pipeline) = "
                "'object' AND json_extract(pipeline, '$.step') = ?)"
            )
            args.append(self.step)
        if self.status:
            conds.append(f"status IN ({', '.join('?' * len(self.status))})")
            args += self.status
        return " AND ".join(conds), args

    def flags(self) -> str:
        """The filters as command-line flags (``--sweep s1 --status ok,failed``)."""
        return " ".join(
            f"--{name} {','.join(value) if name == 'status' else value}"
            for name in FIELDS
            if (value := getattr(self, name))
        )
