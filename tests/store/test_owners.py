"""The store's process-level parts with real processes: whose is a ``running`` record
(``liveness``), writing a lost run down (``settle``), one holder at a time (``locks``), and the
run folders' error paths (``runs``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.store import index, liveness, locks, settle
from mlops_nb.store import runs as store
from tests.results.factory import make_run
from tests.store.flock import held


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


@pytest.fixture
def zombie() -> Iterator[int]:
    """A child that has exited and is not reaped yet (``waitid`` with ``WNOWAIT``)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    yield child.pid
    child.wait()


def running_record(**owner: Any) -> dict[str, Any]:
    return {"id": "r", "status": "running", **liveness.owner(), **owner}


def test_this_process_owns_its_records() -> None:
    rec = running_record()
    assert rec["pid_started"] == liveness.start_ticks(os.getpid()) is not None
    assert not liveness.owner_gone(rec)
    assert liveness.resolve(rec) is rec
    assert liveness.boot_id()


def test_a_dead_owner_makes_the_record_lost(dead_pid: int) -> None:
    rec = running_record(pid=dead_pid)
    assert liveness.owner_gone(rec)
    seen = liveness.resolve(rec, "sweep")
    assert seen["status"] == liveness.LOST
    assert seen["error"]["ename"] == liveness.LOST_ENAME
    assert f"this sweep (pid {dead_pid} on {socket.gethostname()})" in seen["error"]["evalue"]
    assert liveness.start_ticks(dead_pid) is None and not liveness.is_zombie(dead_pid)


def test_a_finished_unreaped_owner_is_gone(zombie: int) -> None:
    assert liveness.is_zombie(zombie) and liveness.start_ticks(zombie) is None
    assert liveness.owner_gone(running_record(pid=zombie))


@pytest.mark.parametrize(
    ("owner", "gone"),
    [
        ({"pid_started": -1}, True),  # the pid was reused by another process
        ({"boot_id": "another-boot"}, True),  # the machine restarted since
        ({"host": "elsewhere.example"}, False),  # cannot be checked from here
        ({"pid": "not a pid"}, False),
        ({"pid_started": None}, False),
    ],
    ids=["reused-pid", "rebooted", "other-host", "no-pid", "no-start"],
)
def test_owner_fields(owner: dict[str, Any], gone: bool) -> None:
    assert liveness.owner_gone(running_record(**owner)) is gone
    assert liveness.resolve({**running_record(**owner), "status": "ok"})["status"] == "ok"


def lost_run(runs_dir: Path, pid: int, *, partial: bool = True) -> Path:
    folder = make_run(runs_dir)
    rec = {**store.read_raw_record(folder), **running_record(pid=pid), "ended_at": None}
    rec["id"] = folder.name
    store.write_record(folder, rec)
    (folder / store.OUTPUT).unlink()
    if partial:
        (folder / store.PARTIAL_OUTPUT).write_text("{}", encoding="utf-8")
    return folder


def test_settle_writes_a_lost_run_down(runs_dir: Path, dead_pid: int) -> None:
    folder = lost_run(runs_dir, dead_pid)
    assert store.read_record(folder)["status"] == liveness.LOST  # every reader sees it
    assert store.read_raw_record(folder)["status"] == "running"  # until it is written down
    assert settle.settle(folder, store.PARTIAL_OUTPUT, store.OUTPUT)
    raw = store.read_raw_record(folder)
    assert raw["status"] == liveness.LOST and raw["ended_at"]
    assert raw["error"]["ename"] == liveness.LOST_ENAME
    assert (folder / store.OUTPUT).is_file() and not (folder / store.PARTIAL_OUTPUT).exists()
    assert not settle.settle(folder, store.PARTIAL_OUTPUT, store.OUTPUT)  # once
    (folder / store.PARTIAL_OUTPUT).write_text("{}", encoding="utf-8")  # a late worker's save
    assert not settle.settle(folder, store.PARTIAL_OUTPUT, store.OUTPUT)
    assert not (folder / store.PARTIAL_OUTPUT).exists()


def test_settle_leaves_live_and_unreadable_runs(runs_dir: Path, tmp_path: Path) -> None:
    live = lost_run(runs_dir, os.getpid())
    assert not settle.settle(live, store.PARTIAL_OUTPUT, store.OUTPUT)
    assert store.read_raw_record(live)["status"] == "running"
    assert not settle.settle(tmp_path / "nothing", store.PARTIAL_OUTPUT, store.OUTPUT)


def test_settle_all(runs_dir: Path, dead_pid: int, tmp_path: Path) -> None:
    lost = [lost_run(runs_dir, dead_pid), lost_run(runs_dir, dead_pid, partial=False)]
    make_run(runs_dir)
    index.rebuild(runs_dir)
    assert settle.settle_all(runs_dir) == 2
    assert [store.read_raw_record(f)["status"] for f in lost] == [liveness.LOST] * 2
    assert settle.settle_all(runs_dir) == 0
    assert settle.settle_all(tmp_path / "nothing") == 0


def test_a_lock_has_one_holder_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "store" / "sweep.lock"
    with locks.exclusive(path, busy="busy: pid {pid}"):
        assert path.read_text().strip() == str(os.getpid())
        second = locks.exclusive(path, busy="busy: pid {pid}")
        with pytest.raises(StoreError, match=f"busy: pid {os.getpid()}"):
            second.__enter__()
        assert held(path)
    assert not held(path)  # released with the block


def test_a_lock_that_cannot_be_made_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot create the lock file"):
        locks.exclusive(tmp_path / "file" / "x.lock", busy="busy").__enter__()


def test_run_folder_errors(runs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_NB_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert store.resolve_runs_dir(None) == tmp_path / "elsewhere"
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot create a run folder in"):
        store.create_run_folder(tmp_path / "file", store.new_run_id())
    with pytest.raises(StoreError, match="cannot write the run record in"):
        store.write_record(tmp_path / "no" / "folder", {"id": "x"})
    folder = make_run(runs_dir)
    (folder / store.RECORD).write_text("[1, 2]")
    with pytest.raises(StoreError, match="not a run record"):
        store.read_raw_record(folder)
    (folder / store.RECORD).write_text("{not json")
    with pytest.raises(StoreError, match="unreadable run record"):
        store.read_raw_record(folder)
    assert list(store.iter_records(runs_dir)) == []  # the unreadable one is left out
    store.discard_run_folder(folder)
    assert not folder.exists()


@pytest.mark.parametrize(
    ("errno_name", "why"),
    [("ENOSPC", "no space left"), ("EROFS", "not writable"), ("EIO", "Check the folder")],
)
def test_store_error_names_the_cause(errno_name: str, why: str) -> None:
    import errno

    code = getattr(errno, errno_name)
    err = store.store_error(OSError(code, os.strerror(code)), "write", Path("runs"))
    assert why in err.message and "runs" in err.message


def test_resolve_run_by_path_and_ran_clean(runs_dir: Path) -> None:
    folder = make_run(runs_dir)
    assert store.resolve_run(runs_dir, str(folder)) == folder
    with pytest.raises(StoreError, match="not a run folder"):
        store.resolve_run(runs_dir, str(runs_dir / "nothing"))
    assert store.ran_clean(folder)
    (folder / store.OUTPUT).write_text("not json")
    assert not store.ran_clean(folder)
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (folder / store.OUTPUT).write_text(json.dumps(nb))
    assert store.ran_clean(folder)
