"""What went where: the ``exports`` table, in ``<runs>/exports.sqlite`` beside the runs index.

One row per exported thing (a run, a sweep, a pipeline invocation) and target and destination:
``(target, destination, entity, run_id, remote_id, fingerprint, exported_at)``. A row is written
only after the tracking system holds the complete thing, so a row means "done"; an export killed
before its row was written is found again remotely (or redone) by the exporter. ``fingerprint``
says what was exported (status, times): a row whose fingerprint still matches is not sent again.

It is a file of its own (not a table of ``index.sqlite``) because the index is rebuilt from the
run folders whenever it is stale, and what was exported is not in the run folders. Exports of one
runs store are serialised by an exclusive lock (``exports.lock``), so two exports running at once
never both create the same remote run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlops_nb.errors import StoreError
from mlops_nb.store import runs as store

EXPORTS = "exports.sqlite"
LOCK = "exports.lock"
BUSY_TIMEOUT_S = 60.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS exports (
    target TEXT NOT NULL, destination TEXT NOT NULL, entity TEXT NOT NULL, run_id TEXT,
    remote_id TEXT NOT NULL, fingerprint TEXT NOT NULL, exported_at TEXT NOT NULL,
    PRIMARY KEY (target, destination, entity)
);
CREATE INDEX IF NOT EXISTS exports_by_run ON exports (run_id);
"""


@dataclass(frozen=True)
class Exported:
    """One row of the exports table."""

    entity: str
    remote_id: str
    fingerprint: str


class ExportsTable:
    """The exports table of one runs store; use as a context manager (opens, closes)."""

    def __init__(self, runs_dir: Path) -> None:
        self.path = Path(runs_dir) / EXPORTS
        self._conn: sqlite3.Connection | None = None

    def __enter__(self) -> ExportsTable:
        try:
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(_SCHEMA)
        except sqlite3.Error as e:
            raise StoreError(
                f"cannot open {self.path}: {e}. Delete it to forget what was exported "
                "(the next export then finds the exported runs remotely)."
            ) from None
        self._conn = conn
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def conn(self) -> sqlite3.Connection:
        assert self._conn is not None, "use ExportsTable as a context manager"
        return self._conn

    def done(self, target: str, destination: str) -> dict[str, Exported]:
        """``{entity: Exported}`` of everything exported to ``target`` at ``destination``."""
        rows = self.conn.execute(
            "SELECT entity, remote_id, fingerprint FROM exports"
            " WHERE target = ? AND destination = ?",
            (target, destination),
        ).fetchall()
        return {r[0]: Exported(r[0], r[1], r[2]) for r in rows}

    def remember(
        self,
        target: str,
        destination: str,
        entity: str,
        *,
        run_id: str | None,
        remote_id: str,
        fingerprint: str,
    ) -> None:
        """Record that ``entity`` is (now completely) at ``remote_id``."""
        self.conn.execute(
            "INSERT OR REPLACE INTO exports VALUES (?, ?, ?, ?, ?, ?, ?)",
            (target, destination, entity, run_id, remote_id, fingerprint, store.utc_now()),
        )

    def of_run(self, run_id: str) -> list[tuple[str, str, str]]:
        """``[(target, destination, remote_id)]`` where one run went."""
        rows = self.conn.execute(
            "SELECT target, destination, remote_id FROM exports WHERE run_id = ? ORDER BY target",
            (run_id,),
        ).fetchall()
        return [(str(a), str(b), str(c)) for a, b, c in rows]


def exists(runs_dir: Path) -> bool:
    return (Path(runs_dir) / EXPORTS).is_file()


@contextlib.contextmanager
def locked(runs_dir: Path) -> Iterator[None]:
    """Hold the store's export lock (``flock``; released when the process dies, so a killed
    export never leaves it taken)."""
    path = Path(runs_dir) / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise StoreError(f"cannot open {path}: {e.strerror or e}.") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
