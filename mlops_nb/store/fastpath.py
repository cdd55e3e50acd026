"""What keeps reading the runs index cheap at 100,000 runs (issue 18: ``report`` in 1 s).

``BY_SECTION``: a covering index of the columns ``report.outline`` groups every run by, in that
order, so its outline is one pass over the index (no sort, no row of the table read), and
``BY_PIPELINE``, of the runs of pipeline steps; an index file made before them gets them when
next opened (``add_indexes``), its rows unchanged (the schema version stays).

``listing``, ``trusted``, ``record``: the index check (``index.open_index``) compares the runs
folder's names with the indexed ids only when the folder's listing is not the one the index was
last found to match (see below).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from pathlib import Path

BY_SECTION = (
    "CREATE INDEX IF NOT EXISTS runs_by_section ON runs (sweep_id, notebook_abspath, notebook, "
    "pipeline, status, started_at, record_mtime_ns, id);"
)
# The runs of pipeline steps alone (the outline's pipeline files): none to read in a store of
# sweeps and notebooks.
BY_PIPELINE = (
    "CREATE INDEX IF NOT EXISTS runs_by_pipeline ON runs (pipeline, id) WHERE pipeline IS NOT NULL;"
)
_ADDED = {"runs_by_section": BY_SECTION, "runs_by_pipeline": BY_PIPELINE}


def add_indexes(conn: sqlite3.Connection) -> None:
    """Create the indexes added since the file was made; one that cannot be written now (a full
    disk, a busy store) is made next time (reads are right without it, only slower)."""
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    for name, sql in _ADDED.items():
        if name not in have:
            with contextlib.suppress(sqlite3.OperationalError):
                conn.execute(sql)


# --- the runs folder's listing, compared by a digest --------------------------------------------
#
# A check of the index lists the runs folder (the run folders are the source of truth, and a run
# folder may be added, removed or renamed by hand at any time). Comparing 100,000 names with the
# 100,000 indexed ids costs more than the listing; after a check that found every run folder of
# the listing indexed, a digest of the listing and the index's row count are kept in its ``meta``
# table (``record``), and a later check whose listing has the same digest and whose index has as
# many rows (``trusted``) has nothing to compare. The folder's modification time cannot say it
# (as make and git's untracked cache use it): the index's ``-wal`` and ``-shm`` files live in the
# runs folder, SQLite creates them at each first open and removes them at each last close
# (SQLite, "Write-Ahead Logging", section 3), so every reader changes it, and keeping them open
# would break the store's promise that a command leaves the index one file (README, "Results
# across runs"). Anything that rebuilds the index forgets the digest (``forget``).

_STAMP = "folder_digest"


def listing(runs_dir: Path) -> tuple[list[str], str]:
    """The names in the runs folder (none when it is gone) and a digest of them in the order
    listed (an unchanged folder lists in the same order: a file system that lists it otherwise
    only costs a full comparison). The index's ``-wal`` and ``-shm`` files are among them at
    every check: the checking connection is open, so they are there."""
    try:
        names = os.listdir(runs_dir)
    except FileNotFoundError:
        names = []
    text = "\0".join(names).encode("utf-8", "surrogateescape")
    return names, hashlib.blake2b(text, digest_size=16).hexdigest()


def _count(conn: sqlite3.Connection) -> int:
    n: int = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    return n


def trusted(conn: sqlite3.Connection, digest: str) -> bool:
    """Whether the index held every run folder of a listing with this ``digest``, and has as many
    rows as then (no row dropped since by ``reindex``)."""
    row = conn.execute("SELECT v FROM meta WHERE k = ?", (_STAMP,)).fetchone()
    return row is not None and row[0] == f"{digest} {_count(conn)}"


def record(conn: sqlite3.Connection, digest: str) -> None:
    """Keep ``digest``, of the listing that the index now matches, inside the caller's write
    transaction (the row count is read in it)."""
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_STAMP, f"{digest} {_count(conn)}"))


def forget(conn: sqlite3.Connection) -> None:
    """Drop the kept digest (a rebuild: the next check compares every name)."""
    conn.execute("DELETE FROM meta WHERE k = ?", (_STAMP,))
