"""``--step NAME`` (``RunFilter.step``) naming a step no run of the store ran is a mistake the
user hears about (exit 2, the steps it has), as a sweep, pipeline or notebook it does not have
(``store.names.check_named``); a step that exists but matches no run with the other filters is
"no runs match"."""

from __future__ import annotations

from pathlib import Path

from mlops_nb.errors import UsageError
from mlops_nb.store import index


def check_step(runs_dir: Path, step: str | None, pipeline: str | None, matched: int) -> None:
    """Raise ``UsageError`` when ``step`` selected no run and no run of ``pipeline`` (of any,
    when None) is of that step; the message lists the steps there are."""
    if not step or matched:
        return
    steps = _steps(runs_dir, pipeline)
    if step in steps:
        return
    where = f"pipeline {pipeline!r} in {runs_dir}" if pipeline else str(runs_dir)
    known = f"steps that made runs: {', '.join(steps)}" if steps else "no pipeline step made runs"
    raise UsageError(
        f"no run of a step {step!r} in {where}; {known} (a gate, or a step not run yet, makes "
        "none)."
    )


@index._fork_safe
def _steps(runs_dir: Path, pipeline: str | None) -> list[str]:
    sql = (
        "SELECT DISTINCT json_extract(pipeline, '$.step') FROM runs WHERE pipeline IS NOT NULL "
        "AND json_valid(pipeline) AND json_type(pipeline) = 'object'"
    )
    args: list[str] = []
    if pipeline:
        sql += " AND json_extract(pipeline, '$.name') = ?"
        args.append(pipeline)
    conn = index.open_index(runs_dir, sync=False)
    try:
        return sorted(str(s) for (s,) in conn.execute(sql, args) if s is not None)
    finally:
        conn.close()
