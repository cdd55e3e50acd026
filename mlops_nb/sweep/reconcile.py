"""A lost sweep's record, completed from its runs when it is read.

The driver names a set's run in the sweep record when the run ends, and writes the record at
most every ``drive.SAVE_EVERY_S``. A driver killed outright (SIGKILL, a reboot) thus leaves sets
whose runs had started, or had ended in its last second, ``pending`` without a run, while the
runs store has those runs (``lost`` for the ones it cut short, ``ok`` or ``failed`` for the
others). Readers of a ``lost`` sweep record get each such set completed with the newest run of
the sweep that has the set's key, as the runs index holds it, and that run's status as readers
see it (``store.liveness``). The record file itself is left as it was: the next invocation of
the sweep resumes from the runs, and rewrites it.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

from mlops_nb.errors import StoreError
from mlops_nb.store import index, liveness
from mlops_nb.store import runs as store

LOST = "lost"


def complete(runs_dir: Path, rec: Any) -> Any:
    """``rec`` (a ``record.SweepRecord``), its sets without a run completed when it is lost."""
    if rec.status != LOST or all(e.run_id is not None for e in rec.runs):
        return rec
    try:
        rows = index.query_rows(runs_dir, "sweep_id = ?", [rec.id])
    except (StoreError, OSError, sqlite3.Error):
        return rec  # the record as written: nothing better to say
    newest = {row["key"]: row["id"] for row in rows}  # rows come in id order: the last wins
    runs = [_completed(runs_dir, e, newest.get(e.key)) for e in rec.runs]
    return dataclasses.replace(rec, runs=tuple(runs))


def entry_error(e: dict[str, Any] | None) -> str | None:
    """A run's error as a sweep set's one line (``ValueError: boom in cell 2``), or None."""
    if not e:
        return None
    cell = e.get("cell_index")
    where = f" in cell {cell + 1}" if isinstance(cell, int) else ""
    return f"{e.get('ename')}: {e.get('evalue')}{where}"


def _completed(runs_dir: Path, entry: Any, run_id: str | None) -> Any:
    if entry.run_id is not None or run_id is None:
        return entry
    try:
        run = liveness.resolve(store.read_record(runs_dir / run_id))
    except (StoreError, OSError):
        return entry
    error = entry_error(run.get("error") if isinstance(run.get("error"), dict) else None)
    return dataclasses.replace(
        entry,
        status=str(run.get("status")),
        run_id=run_id,
        attempts=(*entry.attempts, run_id) if run_id not in entry.attempts else entry.attempts,
        duration_s=run.get("duration_s"),
        error=error,
    )
