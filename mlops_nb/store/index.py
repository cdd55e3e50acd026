"""The runs index: one SQLite file in the runs folder, so listing runs never reads run folders.

The run folders stay the source of truth. The index holds one row per run (the fields listings
need, with parameters and scalar scraps as JSON) and is updated in a transaction when a run
finishes (WAL mode, busy timeout: several ``mlops-nb run`` processes may finish at once). Readers
check it cheaply before a query (one ``os.scandir`` of the runs folder against the indexed ids, and
a ``stat`` of the records still ``running``) and bring it up to date; a missing, corrupt or
old-schema index is rebuilt from the folders with a one-line notice.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

from mlops_nb.errors import StoreError
from mlops_nb.store import fastpath, folder_check, kept
from mlops_nb.store import runs as store
from mlops_nb.store.columns import COLUMNS, MTIME_COLUMN, STATUS, TABLE, row_of
from mlops_nb.store.place import no_runs_folder

log = logging.getLogger(__name__)

INDEX = store.INDEX
SCHEMA_VERSION = "1"
BUSY_TIMEOUT_S = 60.0


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE IF NOT EXISTS runs (
    {", ".join(f"{name} {kind}" for name, kind, _ in TABLE)}, {MTIME_COLUMN} INTEGER
);
CREATE INDEX IF NOT EXISTS runs_by_key ON runs (key, status);
CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs (sweep_id);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
{fastpath.BY_SECTION}
{fastpath.BY_PIPELINE}
INSERT OR IGNORE INTO meta VALUES ('schema', '{SCHEMA_VERSION}');
"""
_UPSERT = f"INSERT OR REPLACE INTO runs VALUES ({', '.join('?' * len(COLUMNS))})"


# SQLite's own mutexes are copied locked into a process forked while another thread is inside
# SQLite (a sweep's pool workers forked while a second sweep reads the index): the child hangs
# in its first sqlite3 call. This lock is held inside SQLite and across os.fork()
# (mlops_nb.process_hooks.install registers that).
_FORK_GUARD = threading.RLock()
_F = TypeVar("_F", bound=Callable[..., Any])


def _fork_safe(fn: _F) -> _F:
    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        with _FORK_GUARD:
            return fn(*args, **kwargs)

    return cast(_F, guarded)


def index_path(runs_dir: Path) -> Path:
    return runs_dir / INDEX


def _connect(path: Path | str, *, check_same_thread: bool = True) -> sqlite3.Connection:
    if str(path) != ":memory:":
        _create(path)
    conn = sqlite3.connect(
        str(path),
        timeout=BUSY_TIMEOUT_S,
        isolation_level=None,
        check_same_thread=check_same_thread,
    )
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _create(path: Path | str) -> None:
    """Create the file if missing, so it gets a plain open()'s mode under the umask (sqlite
    itself creates 0644 files; its -wal and -shm files copy the database file's mode)."""
    with contextlib.suppress(OSError):  # exists, or not writable: sqlite says what is wrong
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _read_rows(folders: Iterable[Path]) -> Iterator[tuple[Any, ...]]:
    for folder in folders:
        try:
            mtime = (folder / store.RECORD).stat().st_mtime_ns
        except FileNotFoundError:  # a run being created right now: it indexes itself
            log.debug("run folder %s has no record yet", folder)
            continue
        except OSError:
            log.warning("skipping unreadable run folder %s", folder)
            continue
        try:
            record = store.read_record(folder)
            if record.get("id") != folder.name:
                record = {**record, "id": folder.name}
            yield row_of(record, mtime)
        except (OSError, StoreError, KeyError, TypeError, ValueError):
            log.warning("skipping unreadable run folder %s", folder)


def _build(conn: sqlite3.Connection, runs_dir: Path) -> int:
    conn.executescript(_SCHEMA)
    with _transaction(conn):
        conn.executemany(_UPSERT, _read_rows(store.iter_run_folders(runs_dir)))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('built', '1')")
    n: int = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    return n


def _remove_index_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


@_fork_safe
def rebuild(runs_dir: Path) -> int:
    """Rebuild the index from the run folders; the row count.

    A sound index is refilled in place, in one write transaction, so processes that have it open
    (a sweep finishing runs) keep working; only a corrupt or old-schema index is rebuilt into a
    new file that replaces it.
    """
    if not runs_dir.is_dir():
        raise no_runs_folder(runs_dir)
    if not writable(runs_dir):
        raise _write_error(PermissionError(errno.EACCES, os.strerror(errno.EACCES)), runs_dir)
    path = index_path(runs_dir)
    if path.is_file():
        with contextlib.suppress(sqlite3.DatabaseError):
            conn = _connect(path)
            try:
                if _is_valid(conn):
                    rows = list(_read_rows(store.iter_run_folders(runs_dir)))
                    with _transaction(conn):
                        fastpath.forget(conn)
                        conn.execute("DELETE FROM runs")
                        conn.executemany(_UPSERT, rows)
                    n: int = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
                    return n
            finally:
                conn.close()
    tmp = runs_dir / f".{INDEX}.{os.getpid()}.tmp"
    _remove_index_files(tmp)
    try:
        _create(tmp)
        conn = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            n = _build(conn, runs_dir)
            conn.execute("PRAGMA journal_mode = WAL")  # persistent in the file
        finally:
            conn.close()
        # An old WAL must never be replayed onto the new file.
        _remove_index_files(path)
        os.replace(tmp, path)
    except (OSError, sqlite3.Error) as e:  # a full or read-only store: no temp file is left
        _remove_index_files(tmp)
        raise _write_error(e, runs_dir) from None
    return n


def _write_error(e: Exception, runs_dir: Path) -> StoreError:
    if isinstance(e, OSError):
        return store.store_error(e, "write the runs index in", runs_dir)
    text = str(e)
    code = (
        errno.ENOSPC
        if "full" in text
        else errno.EROFS
        if "readonly" in text or "unable to open" in text
        else errno.EIO
    )
    return store.store_error(OSError(code, os.strerror(code)), "write the runs index in", runs_dir)


def writable(runs_dir: Path) -> bool:
    """Whether this process may write in the runs folder (not read-only, not another user's)."""
    return os.access(runs_dir, os.W_OK | os.X_OK)


def _is_valid(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT v FROM meta WHERE k = 'schema'").fetchone()
    built = conn.execute("SELECT v FROM meta WHERE k = 'built'").fetchone()
    return bool(row and row[0] == SCHEMA_VERSION and built)


def _notice(text: str) -> None:
    # The store logs and never prints; the CLI shows its warnings as `mlops-nb: ...` lines
    # (mlops_nb.error_handler), Python's last-resort handler shows them to library users.
    log.warning("%s", text)


def open_index(runs_dir: Path, *, sync: bool = True) -> sqlite3.Connection:
    """A connection to an up-to-date index, rebuilding or syncing it first when needed.

    Missing, corrupt or old-schema: rebuilt with a notice. ``sync``: runs added or removed since
    the last update, and records of ``running`` runs changed since, are brought in.
    A read-only runs folder gets an in-memory index.
    """
    path = index_path(runs_dir)
    if not writable(runs_dir):  # reads keep working, silently, from the folders
        return _memory_index(runs_dir)
    reason = None if path.is_file() else "missing"
    if reason is None:
        conn = None
        try:
            conn = _connect(path)
            if _is_valid(conn):
                fastpath.add_indexes(conn)
                if sync:
                    _sync(conn, runs_dir)
                return conn
            conn.close()
            reason = "from an older version"
        except sqlite3.DatabaseError as e:
            if conn is not None:
                conn.close()
            reason = f"unreadable ({e})"
    if reason != "missing" or any(True for _ in store.iter_run_folders(runs_dir)):
        _notice(f"runs index {reason}: rebuilding it from the run folders in {runs_dir}")
    try:
        rebuild(runs_dir)
        return _connect(path)
    except (OSError, sqlite3.DatabaseError, StoreError) as e:
        log.warning("cannot write the runs index in %s (%s); using memory", runs_dir, e)
        conn = sqlite3.connect(":memory:", isolation_level=None)
        _build(conn, runs_dir)
        return conn


def _memory_index(runs_dir: Path) -> sqlite3.Connection:
    mem = sqlite3.connect(":memory:", isolation_level=None)
    _build(mem, runs_dir)
    return mem


_folder_ids = folder_check.folder_ids  # reindex's name for it


def _sync(conn: sqlite3.Connection, runs_dir: Path) -> None:
    names, digest = fastpath.listing(runs_dir)
    on_disk: set[str] | None = None  # not compared: the listing the index matched (fastpath)
    gone: list[str] = []
    new: list[str] = []
    if not fastpath.trusted(conn, digest):
        indexed = {r[0] for r in conn.execute("SELECT id FROM runs")}
        on_disk = set(names).difference(store.SKIP_DIRS)
        gone = list(indexed.difference(on_disk))
        new = sorted(i for i in on_disk.difference(indexed) if store.is_run_id(i))
    changed = folder_check.changed_running(conn, runs_dir, on_disk)
    rows = list(_read_rows(runs_dir / i for i in [*new, *changed]))
    added = set(new)
    # compared, and every run folder listed is indexed now: keep the digest (fastpath)
    keep = on_disk is not None and added.issubset(r[0] for r in rows)
    if not (gone or rows):
        if keep:  # a store another user owns: compared again next time
            with contextlib.suppress(sqlite3.OperationalError), _transaction(conn):
                fastpath.record(conn, digest)
        return
    with _transaction(conn):
        conn.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in gone])
        conn.executemany(_UPSERT, rows)
        if keep:
            fastpath.record(conn, digest)
    finished = sum(1 for r in rows if r[0] in added and r[STATUS] != "running")
    if gone or finished:
        _notice(f"runs index updated from the folders: {finished} added, {len(gone)} removed")


@_fork_safe
def update_run(folder: Path, record: Mapping[str, Any]) -> None:
    """Index one run (called when it finishes). Creates the index when there is none."""
    runs_dir = folder.parent
    mtime = (folder / store.RECORD).stat().st_mtime_ns
    row = row_of({**record, "id": folder.name}, mtime)
    path = index_path(runs_dir)
    conn = _KEPT.get(path)
    try:
        with _transaction(conn):
            built = conn.execute("SELECT v FROM meta WHERE k = 'built'").fetchone()
            if not built:
                conn.executemany(_UPSERT, _read_rows(store.iter_run_folders(runs_dir)))
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('built', '1')")
            conn.execute(_UPSERT, row)
    except BaseException:
        _KEPT.drop(path)  # in doubt (a full disk, a damaged file): open it anew next time
        raise
    _KEPT.done(path, runs_dir)  # closed on a filling disk, or in someone else's pool worker


def _open_for_updates(path: Path) -> sqlite3.Connection:
    conn = _connect(path, check_same_thread=False)
    try:
        conn.executescript(_SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


# update_run's connections, kept open (see ``kept``); used under _FORK_GUARD
_KEPT = kept.Connections(_open_for_updates)


def keep_connections() -> None:
    """In a pool worker whose index connection its parent tidies (``tidy``) or that lives as a
    server: keep it open between runs (``kept.Connections.keep_here``)."""
    _KEPT.keep_here()


@_fork_safe
def tidy(runs_dir: Path) -> None:
    """Fold the index's write-ahead log into its file and remove it, as closing the last
    connection does (SQLite, "Write-Ahead Logging", section 3): after a sweep whose pool workers
    kept theirs open until they ended. Nothing is done while another process has it open."""
    path = index_path(runs_dir)
    _KEPT.drop(path)
    if not path.is_file():
        return
    with contextlib.suppress(sqlite3.Error, OSError):
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
        try:
            conn.execute("SELECT count(*) FROM meta").fetchone()  # opens the WAL
        finally:
            conn.close()


@_fork_safe
def query_rows(
    runs_dir: Path, sql_where: str = "", args: Iterable[Any] = ()
) -> list[dict[str, Any]]:
    """Index rows (dicts) matching an SQL condition over the index columns, in id order."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise no_runs_folder(runs_dir)
    conn = open_index(runs_dir)
    try:
        conn.row_factory = sqlite3.Row
        where = f" WHERE {sql_where}" if sql_where else ""
        rows = conn.execute(f"SELECT * FROM runs{where} ORDER BY id", tuple(args)).fetchall()
        return [dict(r) for r in rows]
    finally:
        conn.close()


@_fork_safe
def find_ok_by_key(runs_dir: Path, key: str) -> Path | None:
    """The latest successful run with this key, from the index (one indexed lookup)."""
    if not runs_dir.is_dir():
        return None
    conn = open_index(runs_dir, sync=False)
    try:
        rows = conn.execute(
            "SELECT id FROM runs WHERE key = ? AND status = 'ok' ORDER BY id DESC", (key,)
        ).fetchall()
    finally:
        conn.close()
    for (run_id,) in rows:
        folder = runs_dir / str(run_id)
        if (folder / store.RECORD).is_file() and store.ran_clean(folder):
            return folder
    return None
