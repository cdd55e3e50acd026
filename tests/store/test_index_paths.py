"""The index's less travelled paths: an index from an older version, a folder without its
record yet, an unreadable record, a transaction that fails, and the one-line store errors."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.store import index, reindex
from mlops_nb.store import runs as store
from tests.results.factory import make_run


def test_an_index_from_an_older_version_is_rebuilt_with_a_notice(
    runs_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_run(runs_dir)
    index.rebuild(runs_dir)
    conn = sqlite3.connect(index.index_path(runs_dir))
    conn.execute("UPDATE meta SET v = '0' WHERE k = 'schema'")
    conn.commit()
    conn.close()
    with caplog.at_level(logging.WARNING, "mlops_nb.store.index"):
        assert len(index.query_rows(runs_dir)) == 1
    assert "runs index from an older version: rebuilding it" in caplog.text
    assert reindex.refresh(runs_dir).full is False  # valid again


def test_a_folder_without_its_record_is_indexed_once_it_has_one(runs_dir: Path) -> None:
    make_run(runs_dir)
    index.rebuild(runs_dir)
    pending = store.create_run_folder(runs_dir, store.new_run_id())  # a run being created
    assert [r["id"] for r in index.query_rows(runs_dir)] != [pending.name]
    assert len(index.query_rows(runs_dir)) == 1
    done = make_run(runs_dir)
    (done / store.RECORD).rename(pending / store.RECORD)  # its record, written now
    store.discard_run_folder(done)
    rows = index.query_rows(runs_dir)
    assert len(rows) == 2 and rows[-1]["id"] == pending.name  # the id is the folder's


def test_an_unreadable_record_is_skipped_with_a_warning(
    runs_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good, bad = make_run(runs_dir), make_run(runs_dir)
    (bad / store.RECORD).write_text("{broken", encoding="utf-8")
    with caplog.at_level(logging.WARNING, "mlops_nb.store.index"):
        assert index.rebuild(runs_dir) == 1
    assert f"skipping unreadable run folder {bad}" in caplog.text
    assert [r["id"] for r in index.query_rows(runs_dir)] == [good.name]


def test_a_failed_transaction_leaves_nothing(runs_dir: Path) -> None:
    make_run(runs_dir)
    index.rebuild(runs_dir)
    conn = index.open_index(runs_dir)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            _delete_then_fail(conn)
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    finally:
        conn.close()


def _delete_then_fail(conn: sqlite3.Connection) -> None:
    with index._transaction(conn):
        conn.execute("DELETE FROM runs")
        conn.execute("INSERT INTO meta VALUES ('schema', 'twice')")  # a primary key clash


def test_no_runs_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nothing"
    for read in (index.rebuild, index.query_rows):
        with pytest.raises(StoreError, match="no runs folder at"):
            read(missing)
    assert index.find_ok_by_key(missing, "k") is None
    assert index._folder_ids(missing) == set()


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (sqlite3.OperationalError("database or disk is full"), "no space left"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "not writable"),
        (sqlite3.OperationalError("unable to open database file"), "not writable"),
        (sqlite3.DatabaseError("disk I/O error"), "Check the folder"),
        (PermissionError(13, "Permission denied"), "not writable"),
    ],
)
def test_index_write_errors_are_one_line(tmp_path: Path, error: Exception, why: str) -> None:
    message = index._write_error(error, tmp_path).message
    assert message.startswith(f"cannot write the runs index in {tmp_path}: ")
    assert why in message and "\n" not in message


def test_the_missing_store_message_fits_the_cli_and_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import mlops_nb
    from mlops_nb.main import main

    with pytest.raises(StoreError) as info:
        mlops_nb.collect(tmp_path / "nosuch")
    assert str(tmp_path / "nosuch") in info.value.message
    # each names what its user writes: the keyword here, the flag in the CLI
    assert "with runs_dir= or MLOPS_NB_RUNS_DIR" in info.value.message
    assert "--runs-dir" not in info.value.message
    assert main(["collect", "--runs-dir", str(tmp_path / "nosuch")]) == 2
    err = capsys.readouterr().err
    assert "with --runs-dir or MLOPS_NB_RUNS_DIR" in err and "runs_dir=" not in err
