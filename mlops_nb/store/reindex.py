"""Incremental ``reindex``: bring the index in line with the run folders, reading only the
records that are new or changed since they were indexed (their ``run.json`` modification time),
and dropping the rows of folders that are gone. At 100,000 runs a full rebuild reads and parses
every record (seconds); this costs one ``stat`` per folder. A missing, corrupt or old-schema
index is rebuilt in full (``index.rebuild``)."""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from mlops_nb.store import index
from mlops_nb.store import runs as store
from mlops_nb.store.place import no_runs_folder


@dataclass(frozen=True)
class Refreshed:
    """What a reindex did: rows ``added``, ``updated``, ``removed``; ``total`` rows after;
    ``full``: rebuilt from scratch."""

    added: int
    updated: int
    removed: int
    total: int
    full: bool = False


@index._fork_safe
def refresh(runs_dir: Path) -> Refreshed:
    """Update the index of ``runs_dir`` from new, changed and removed run folders.

    Raises StoreError when ``runs_dir`` is not a folder."""
    if not runs_dir.is_dir():
        raise no_runs_folder(runs_dir)
    path = index.index_path(runs_dir)
    if path.is_file():
        with contextlib.suppress(sqlite3.DatabaseError):
            conn = index._connect(path)
            try:
                if index._is_valid(conn):
                    return _refresh(conn, runs_dir)
            finally:
                conn.close()
    n = index.rebuild(runs_dir)
    return Refreshed(n, 0, 0, n, full=True)


def _refresh(conn: sqlite3.Connection, runs_dir: Path) -> Refreshed:
    indexed = dict(conn.execute("SELECT id, record_mtime_ns FROM runs").fetchall())
    on_disk = index._folder_ids(runs_dir)
    gone = [i for i in indexed if i not in on_disk]
    stale: list[str] = []
    added = 0
    for run_id in sorted(on_disk):
        if run_id not in indexed and not store.is_run_id(run_id):
            continue
        try:
            mtime = (runs_dir / run_id / store.RECORD).stat().st_mtime_ns
        except OSError:
            if run_id in indexed:
                gone.append(run_id)  # its record is gone: the folder is not a run any more
            continue
        if indexed.get(run_id) != mtime:
            stale.append(run_id)
            added += run_id not in indexed
    rows = list(index._read_rows(runs_dir / i for i in stale))
    read = {r[0] for r in rows}
    gone += [i for i in stale if i in indexed and i not in read]  # unreadable now (warned)
    with index._transaction(conn):
        conn.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in gone])
        conn.executemany(index._UPSERT, rows)
    total: int = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    return Refreshed(added, len(stale) - added, len(gone), total)
