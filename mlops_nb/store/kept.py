"""SQLite connections kept open for the life of a process, one per database file.

A process that writes a WAL-mode database many times (a sweep's pool worker indexes each run it
finishes) should not close its connection after each write: closing the last connection to a
WAL database checkpoints it and removes its WAL file, two disk syncs (~10-20 ms a write here;
SQLite, "Write-Ahead Logging", section 3: "When the last connection to a database closes, that
connection does a checkpoint and then deletes the WAL"). Kept open, the WAL is checkpointed by
SQLite's own automatic checkpoints (every 1,000 pages) and by the last process that closes it.

Forks: a connection must not be used across ``fork()`` (SQLite, "How To Corrupt An SQLite
Database File", section 2.6), closing included. Connections are kept per process id: a forked
child opens its own and never touches, nor closes, its parent's.

Replaced files: a database removed or rebuilt into a new file since (a store removed and made
again, a corrupt index rebuilt) has another file identity, and is opened anew; the connection to
the old file is closed, and SQLite then neither checkpoints nor deletes the WAL that now belongs
to the new file (a moved or unlinked database is read-only to it: ``SQLITE_READONLY_DBMOVED``).
At most ``LIMIT`` files are kept a process; callers serialize their use (the index's fork
guard).

Children of someone else's ``multiprocessing`` pool (a user's ``Pool.map`` over
``mlops_nb.run``) end with ``os._exit`` or SIGTERM, never closing what they kept: the WAL they
leave would outlive them. Such a process closes its connection after each write (``done``), as
SQLite then folds and removes the WAL; a pool whose workers are tidied by their parent (a sweep's,
a dask worker's) says so with ``keep_here``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

_Identity = tuple[int, int]
LOW_SPACE = 256 << 20  # bytes free under which a connection is not kept (see ``low_space``)
LIMIT = 8  # files a process keeps a connection to; the least recently used is closed first


def low_space(folder: Path) -> bool:
    """Whether the disk of ``folder`` has less than ``LOW_SPACE`` bytes free for this user. A
    kept connection's WAL is not removed until the last connection closes; on a disk filling
    up, the space it holds is what the last run records need (a record that cannot be written
    stays ``running``), so writers close their connection after each write there, as SQLite then
    removes the WAL."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return True
    return st.f_bavail * st.f_frsize < LOW_SPACE


def _identity(path: Path) -> _Identity | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class Connections:
    """``open(path)`` makes a connection (creating the file); ``get`` keeps it for the process."""

    def __init__(self, open: Callable[[Path], sqlite3.Connection]) -> None:
        self._open = open
        self._held: dict[tuple[int, str], tuple[sqlite3.Connection, _Identity]] = {}
        self._at_exit = False
        self._keepers: set[int] = set()

    def keep_here(self) -> None:
        """Keep connections in this process though it is a ``multiprocessing`` child: its parent
        tidies the WAL after it (a sweep's pool workers), or it lives as long as a server."""
        self._keepers.add(os.getpid())

    def keeps_here(self) -> bool:
        """Whether this process keeps its connections open between writes: not in a child of
        someone else's ``multiprocessing`` pool (see the module's docstring)."""
        mp = sys.modules.get("multiprocessing")  # a multiprocessing child has it imported
        return mp is None or mp.parent_process() is None or os.getpid() in self._keepers

    def done(self, path: Path, folder: Path) -> None:
        """After a write to ``path`` (a database in ``folder``): close the connection unless this
        process keeps it and the disk of ``folder`` has room (``low_space``)."""
        if not self.keeps_here() or low_space(folder):
            self.drop(path)

    def close_all(self) -> None:
        """Close this process's kept connections."""
        for _, path in [k for k in self._held if k[0] == os.getpid()]:
            self.drop(Path(path))

    def get(self, path: Path) -> sqlite3.Connection:
        """This process's open connection to ``path``: the kept one while the file is the same
        file, else a new one (kept when the file exists). Raises what ``open`` raises."""
        key = (os.getpid(), str(path))
        held = self._held.pop(key, None)
        if held is not None and held[1] == _identity(path):
            self._held[key] = held  # the most recently used last
            return held[0]
        if held is not None:  # another file by now, or none
            with contextlib.suppress(sqlite3.Error):
                held[0].close()
        conn = self._open(path)
        ident = _identity(path)
        if ident is not None:
            self._held[key] = (conn, ident)
            if not self._at_exit:  # registered on first use: importing registers nothing
                # At exit the last connection checkpoints its database and removes the WAL, as
                # before connections were kept. Forked children end with os._exit: not there.
                atexit.register(self.close_all)
                self._at_exit = True
            mine = [k for k in self._held if k[0] == key[0]]
            for old in mine[: max(0, len(mine) - LIMIT)]:
                self.drop(Path(old[1]))
        return conn

    def drop(self, path: Path) -> None:
        """Close this process's kept connection to ``path``, if any (after an error: the next
        ``get`` opens it anew)."""
        held = self._held.pop((os.getpid(), str(path)), None)
        if held is not None:
            with contextlib.suppress(sqlite3.Error):
                held[0].close()
