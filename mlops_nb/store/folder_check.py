"""What a check of the runs index against the run folders reads (``index.open_index``): the
names in the runs folder, and the records of the runs indexed as ``running``."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from mlops_nb.errors import StoreError
from mlops_nb.store import runs as store


def folder_ids(runs_dir: Path) -> set[str]:
    """Names in the runs folder that may be runs (checked with ``is_run_id`` only when new: at
    100,000 runs the check of every name costs more than the listing). Files are not told from
    folders (a ``stat`` each): a file is never indexed, and one named like a run has no record."""
    try:
        return set(os.listdir(runs_dir)).difference(store.SKIP_DIRS)
    except FileNotFoundError:
        return set()


def changed_running(
    conn: sqlite3.Connection, runs_dir: Path, on_disk: set[str] | None
) -> list[str]:
    """Runs indexed as ``running`` whose record changed since, or whose owner is gone (lost), of
    those in ``on_disk`` (``folder_ids``; None: not listed, as none came or went)."""
    changed = []
    running = "SELECT id, record_mtime_ns FROM runs WHERE status = 'running'"
    for run_id, mtime in conn.execute(running).fetchall():
        if on_disk is None or run_id in on_disk:
            with contextlib.suppress(OSError, StoreError):
                folder = runs_dir / run_id
                if (folder / store.RECORD).stat().st_mtime_ns != mtime or (
                    store.read_record(folder)["status"] != "running"  # its owner is gone: lost
                ):
                    changed.append(run_id)
    return changed
