"""What keeps reading the runs index cheap at 100,000 runs (issue 18: ``report`` in 1 s).

``BY_SECTION``: a covering index of the columns ``report.outline`` groups every run by, in that
order, so its outline is one pass over the index (no sort, no row of the table read); an index
file made before it gets it when next opened (``add_indexes``), its rows unchanged (the schema
version stays).
"""

from __future__ import annotations

import contextlib
import sqlite3

BY_SECTION = (
    "CREATE INDEX IF NOT EXISTS runs_by_section ON runs (sweep_id, notebook_abspath, notebook, "
    "pipeline, status, started_at, record_mtime_ns, id);"
)
_HAS_BY_SECTION = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'runs_by_section'"


def add_indexes(conn: sqlite3.Connection) -> None:
    """Create the indexes added since the file was made; one that cannot be written now (a full
    disk, a busy store) is made next time (reads are right without it, only slower)."""
    if conn.execute(_HAS_BY_SECTION).fetchone() is None:
        with contextlib.suppress(sqlite3.OperationalError):
            conn.execute(BY_SECTION)
