"""The index's writer connection is kept open for the process: no checkpoint after each run (the
WAL stays), one connection per process (a forked child has its own), a replaced index file is
opened anew, and closing the connection to the old file leaves the new file's WAL alone."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

from mlops_nb.store import index, kept
from mlops_nb.store import runs as store
from tests.results.factory import make_run


def _ids(runs_dir: Path) -> set[str]:
    conn = sqlite3.connect(index.index_path(runs_dir))
    try:
        return {r[0] for r in conn.execute("SELECT id FROM runs")}
    finally:
        conn.close()


def _index(folder: Path) -> None:
    index.update_run(folder, store.read_record(folder))


def test_runs_are_indexed_without_a_checkpoint_each(runs_dir: Path) -> None:
    first = make_run(runs_dir)
    _index(first)
    wal = Path(f"{index.index_path(runs_dir)}-wal")
    assert wal.exists()  # a closed last connection would have checkpointed and removed it
    second = make_run(runs_dir)
    _index(second)
    assert _ids(runs_dir) == {first.name, second.name}


def _child_indexes(folder: str) -> None:
    _index(Path(folder))


def test_a_forked_child_indexes_with_its_own_connection(runs_dir: Path) -> None:
    mine = make_run(runs_dir)
    _index(mine)
    theirs = make_run(runs_dir)
    child = multiprocessing.get_context("fork").Process(target=_child_indexes, args=(str(theirs),))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    later = make_run(runs_dir)
    _index(later)  # the parent's connection still works
    assert _ids(runs_dir) == {mine.name, theirs.name, later.name}


def test_a_replaced_index_is_opened_anew_and_the_new_files_wal_survives(runs_dir: Path) -> None:
    old = make_run(runs_dir)
    _index(old)
    path = index.index_path(runs_dir)
    for suffix in ("", "-wal", "-shm"):  # removed, as a corrupt index is before its rebuild
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
    index.rebuild(runs_dir)
    other = sqlite3.connect(path, isolation_level=None)  # another process's, with pending frames
    other.execute("INSERT OR REPLACE INTO meta VALUES ('probe', '1')")
    new = make_run(runs_dir)
    _index(new)
    assert Path(f"{path}-wal").exists()
    assert other.execute("SELECT v FROM meta WHERE k = 'probe'").fetchone() == ("1",)
    other.close()
    assert _ids(runs_dir) == {old.name, new.name}
    probe = sqlite3.connect(path)
    assert probe.execute("SELECT v FROM meta WHERE k = 'probe'").fetchone() == ("1",)
    probe.close()


def test_a_process_keeps_at_most_limit_files(tmp_path: Path) -> None:
    opened: list[sqlite3.Connection] = []

    def open_(p: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(p)
        opened.append(conn)
        return conn

    conns = kept.Connections(open_)
    paths = [tmp_path / f"{i}.sqlite" for i in range(kept.LIMIT + 2)]
    for p in paths:
        assert conns.get(p) is opened[-1]
    assert conns.get(paths[-1]) is opened[-1]  # kept: not opened again
    assert len(opened) == len(paths)
    # the two least recently used were closed, the others still work
    for conn in opened[:2]:
        try:
            conn.execute("SELECT 1")
            raise AssertionError("still open")
        except sqlite3.ProgrammingError:
            pass
    for conn in opened[2:]:
        conn.execute("SELECT 1")


def test_on_a_disk_filling_up_the_wal_is_removed_after_each_run(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kept, "LOW_SPACE", 1 << 62)  # every disk is nearly full
    first = make_run(runs_dir)
    _index(first)
    assert not Path(f"{index.index_path(runs_dir)}-wal").exists()
    assert _ids(runs_dir) == {first.name}
