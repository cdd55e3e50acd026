from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_nb import collect
from mlops_nb.store import index
from mlops_nb.store import runs as store
from tests import nbbuild as b
from tests.results.factory import make_run


def indexed_ids(runs_dir: Path) -> list[str]:
    conn = sqlite3.connect(index.index_path(runs_dir))
    try:
        return [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY id")]
    finally:
        conn.close()


def test_rebuild_from_folders(runs_dir: Path) -> None:
    folders = [make_run(runs_dir, params={"x": i}, scraps={"f1": i / 10}) for i in range(3)]
    (runs_dir / "sweeps").mkdir()
    (runs_dir / "not-a-run").mkdir()
    assert index.rebuild(runs_dir) == 3
    assert indexed_ids(runs_dir) == [f.name for f in folders]
    conn = sqlite3.connect(index.index_path(runs_dir))
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_reindex_command(runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlops_nb.main import main

    make_run(runs_dir)
    make_run(runs_dir)
    assert main(["reindex", "--runs-dir", str(runs_dir)]) == 0
    assert "indexed 2 runs" in capsys.readouterr().out


def test_update_run_creates_the_index_with_existing_folders(runs_dir: Path) -> None:
    first = make_run(runs_dir)
    second = make_run(runs_dir, status="running")
    record = {**store.read_record(second), "status": "ok"}
    store.write_record(second, record)
    index.update_run(second, record)
    assert indexed_ids(runs_dir) == [first.name, second.name]
    assert collect(runs_dir)["status"].tolist() == ["ok", "ok"]


@pytest.mark.parametrize("damage", ["delete", "garbage", "truncate", "old-schema"])
def test_broken_index_is_rebuilt_with_a_notice(
    runs_dir: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    for i in range(3):
        make_run(runs_dir, params={"x": i})
    index.rebuild(runs_dir)
    path = index.index_path(runs_dir)
    if damage == "delete":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:300])
    else:
        conn = sqlite3.connect(path)
        conn.execute("UPDATE meta SET v = '0' WHERE k = 'schema'")
        conn.commit()
        conn.close()
    caplog.clear()
    assert len(collect(runs_dir)) == 3
    (notice,) = [r for r in caplog.records if r.name.startswith("mlops_nb.store")]
    assert notice.levelname == "WARNING"  # the store logs, never prints
    assert "rebuilding it from the run folders" in notice.getMessage()
    assert capsys.readouterr().err == ""
    caplog.clear()
    assert len(collect(runs_dir)) == 3
    assert caplog.records == []  # healthy again: no notice


def test_folders_added_and_removed_behind_the_index(
    runs_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import shutil

    a = make_run(runs_dir)
    index.rebuild(runs_dir)
    b_ = make_run(runs_dir)  # e.g. copied in from another machine
    assert collect(runs_dir)["id"].tolist() == [a.name, b_.name]
    assert "1 added" in caplog.text
    shutil.rmtree(a)
    caplog.clear()
    assert collect(runs_dir)["id"].tolist() == [b_.name]
    assert "1 removed" in caplog.text


def test_a_running_record_finished_after_indexing_is_refreshed(runs_dir: Path) -> None:
    folder = make_run(runs_dir, status="running")
    assert collect(runs_dir)["status"].tolist() == ["running"]
    record = {**store.read_record(folder), "status": "ok", "scraps": {"f1": 0.5}}
    os.utime(folder / store.RECORD, ns=(1, 1))  # make sure the mtime changes
    store.write_record(folder, record)
    df = collect(runs_dir)
    assert df["status"].tolist() == ["ok"]
    assert df["scraps.f1"].tolist() == [0.5]


def test_find_ok_by_key_uses_the_index(runs_dir: Path) -> None:
    make_run(runs_dir, key="k1")
    newer = make_run(runs_dir, key="k1")
    make_run(runs_dir, key="k1", status="failed")
    other = make_run(runs_dir, key="k2")
    assert index.find_ok_by_key(runs_dir, "k1") == newer
    assert index.find_ok_by_key(runs_dir, "k2") == other
    assert index.find_ok_by_key(runs_dir, "nope") is None
    import shutil

    shutil.rmtree(newer)  # deleted behind the index: never returned
    assert index.find_ok_by_key(runs_dir, "k1") != newer
    assert index.find_ok_by_key(runs_dir / "missing", "k1") is None


@pytest.mark.kernel
@pytest.mark.slow
def test_four_parallel_runs_are_all_indexed(runs_dir: Path, tmp_path: Path) -> None:
    nb = b.write(
        tmp_path / "nb.ipynb",
        b.params("x = 1"),
        b.code("import scrapbook as sb\nsb.glue('y', x * 2)"),
    )
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlops_nb",
                "run",
                str(nb),
                "-p",
                "x",
                str(i),
                "--runs-dir",
                str(runs_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(4)
    ]
    errors = [p.communicate(timeout=180)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    assert len(indexed_ids(runs_dir)) == 4
    df = collect(runs_dir, sort="x")
    assert df["params.x"].tolist() == [0, 1, 2, 3]
    assert df["scraps.y"].tolist() == [0, 2, 4, 6]


def test_reindex_keeps_open_connections_working(runs_dir: Path) -> None:
    for i in range(3):
        make_run(runs_dir, params={"i": i})
    index.rebuild(runs_dir)
    held = sqlite3.connect(str(index.index_path(runs_dir)))  # e.g. a sweep process
    try:
        make_run(runs_dir, params={"i": 3})
        assert index.rebuild(runs_dir) == 4
        # refilled in place: the open connection sees the new rows, not a deleted file
        assert held.execute("SELECT count(*) FROM runs").fetchone()[0] == 4
    finally:
        held.close()


def _fork_and_query(runs_dir: Path, n: int) -> list[int | None]:
    """Fork n children while another thread indexes; each child queries the index."""
    import multiprocessing
    import threading

    from tests.results.factory import make_run

    for i in range(150):
        make_run(runs_dir, params={"i": i})
    stop = threading.Event()

    def churn() -> None:  # a second sweep's thread: builds the index over and over
        while not stop.is_set():
            index.rebuild(runs_dir)

    ctx = multiprocessing.get_context("fork")
    codes: list[int | None] = []
    thread = threading.Thread(target=churn, daemon=True)
    thread.start()
    try:
        for _ in range(n):
            child = ctx.Process(target=index.query_rows, args=(runs_dir,))
            child.start()
            child.join(20)
            codes.append(child.exitcode)
            if child.exitcode is None:  # hung: a lock copied held into the child
                child.kill()
                child.join()
    finally:
        stop.set()
        thread.join(60)
    return codes


def test_a_process_forked_while_another_thread_is_in_the_index_does_not_hang(
    runs_dir: Path,
) -> None:
    assert _fork_and_query(runs_dir, 15) == [0] * 15
