"""The index check compares the runs folder's names with the indexed ids only when its listing
differs from the last one the index matched (``store.fastpath``: a digest of the listing and
the row count): run folders added, removed, renamed or replaced by hand or by another process
right after a check are found; another process opening and closing the index changes nothing;
a folder whose record is not written yet, a rebuilt index or a dropped row make it compare
again; records of running runs are still read."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.store import fastpath, index, query
from mlops_nb.store import runs as store
from tests.results.factory import make_run

ROOT = Path(__file__).parents[2]


def _kept(runs_dir: Path) -> str | None:
    conn = sqlite3.connect(f"{index.index_path(runs_dir).as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT v FROM meta WHERE k = 'folder_digest'").fetchone()
    finally:
        conn.close()
    return None if row is None else str(row[0])


def _indexed(runs_dir: Path, n: int = 1, **fields: Any) -> list[Path]:
    """``n`` runs made and indexed (an index made from the folders, as ``run`` makes it)."""
    folders = [make_run(runs_dir, **fields) for _ in range(n)]
    index.rebuild(runs_dir)
    return folders


def _ids(runs_dir: Path) -> set[str]:
    return {r["id"] for r in index.query_rows(runs_dir)}


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each index check: whether it compared every name (its listing not the one kept)."""
    seen: list[bool] = []
    real = fastpath.trusted

    def counted(conn: sqlite3.Connection, digest: str) -> bool:
        same = real(conn, digest)
        seen.append(not same)
        return same

    monkeypatch.setattr(fastpath, "trusted", counted)
    return seen


def test_an_unchanged_folder_is_compared_once(runs_dir: Path, compared: list[bool]) -> None:
    made = {f.name for f in _indexed(runs_dir, 3)}
    for _ in range(3):
        query.sync(runs_dir)
    assert compared == [True, False, False]
    assert _ids(runs_dir) == made
    assert compared[3:] == [False]


def _copy_run(runs_dir: Path, source: Path) -> Path:
    twin = runs_dir / store.new_run_id("twin")
    shutil.copytree(source, twin)
    return twin


def _remove_run(runs_dir: Path, folder: Path) -> Path:
    shutil.rmtree(folder)
    return folder


def _rename_run(runs_dir: Path, folder: Path) -> Path:
    moved = runs_dir / store.new_run_id("moved")
    os.rename(folder, moved)
    return moved


@pytest.mark.parametrize("change", [_copy_run, _remove_run, _rename_run])
def test_folders_changed_by_hand_right_after_a_check_are_found(
    runs_dir: Path, compared: list[bool], change: Callable[[Path, Path], Path]
) -> None:
    first, second = _indexed(runs_dir, 2)
    query.sync(runs_dir)
    before = _kept(runs_dir)
    touched = change(runs_dir, second)
    expected = {f.name for f in store.iter_run_folders(runs_dir)}
    assert _ids(runs_dir) == expected
    assert first.name in expected and (touched.name in expected) == touched.exists()
    assert _kept(runs_dir) not in (None, before)
    assert compared == [True, True]


def test_a_run_folder_replaced_by_another_is_found_as_before(runs_dir: Path) -> None:
    (old,) = _indexed(runs_dir, notebook="old.ipynb")
    query.sync(runs_dir)
    other = make_run(runs_dir, notebook="new.ipynb")
    query.sync(runs_dir)
    shutil.rmtree(old)
    os.rename(other, old)  # one folder less, the old name back
    assert _ids(runs_dir) == {old.name}
    # as before the digest, a check does not read the records it has (``reindex`` does)
    assert index.query_rows(runs_dir)[0]["notebook"] == "old.ipynb"


def test_runs_added_by_another_process_are_found(runs_dir: Path) -> None:
    _indexed(runs_dir)
    query.sync(runs_dir)
    code = (
        "import sys; from pathlib import Path; from tests.results.factory import make_run; "
        "print(make_run(Path(sys.argv[1])).name)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(runs_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() in _ids(runs_dir)


def test_the_index_files_coming_and_going_change_nothing(
    runs_dir: Path, compared: list[bool]
) -> None:
    _indexed(runs_dir, 2)
    query.sync(runs_dir)
    other = sqlite3.connect(index.index_path(runs_dir))  # another process's: -wal, -shm stay
    other.execute("SELECT count(*) FROM runs").fetchone()
    assert {f"{store.INDEX}-wal", f"{store.INDEX}-shm"} <= set(os.listdir(runs_dir))
    query.sync(runs_dir)
    other.close()
    query.sync(runs_dir)
    assert compared == [True, False, False]


def test_other_files_in_the_runs_folder_are_listed_once(
    runs_dir: Path, compared: list[bool]
) -> None:
    _indexed(runs_dir)
    (runs_dir / "report.html").write_text("<html></html>")  # a pipeline's report step's page
    stray = runs_dir / store.new_run_id("a-file")
    stray.write_text("")  # named like a run: never indexed
    query.sync(runs_dir)
    query.sync(runs_dir)
    assert compared == [True, True]  # a run folder of the listing is not indexed
    stray.unlink()
    query.sync(runs_dir)
    query.sync(runs_dir)
    assert compared[2:] == [True, False]


def test_a_folder_without_its_record_yet_is_looked_at_again(
    runs_dir: Path, compared: list[bool]
) -> None:
    _indexed(runs_dir)
    starting = store.create_run_folder(runs_dir, store.new_run_id("starting"))
    query.sync(runs_dir)
    assert _kept(runs_dir) is None  # a run folder is not indexed: nothing kept
    source = make_run(runs_dir.parent / "elsewhere")
    shutil.copy2(source / store.RECORD, starting / store.RECORD)  # its record, written later
    assert starting.name in _ids(runs_dir)
    assert compared == [True, True]


def test_a_rebuilt_or_shrunk_index_compares_again(runs_dir: Path, compared: list[bool]) -> None:
    folders = _indexed(runs_dir, 3)
    query.sync(runs_dir)
    assert _kept(runs_dir) is not None
    index.rebuild(runs_dir)  # in place: it forgets the digest
    assert _kept(runs_dir) is None
    query.sync(runs_dir)
    conn = sqlite3.connect(index.index_path(runs_dir))
    conn.execute("DELETE FROM runs WHERE id = ?", (folders[1].name,))  # as reindex drops a row
    conn.commit()
    conn.close()
    assert _ids(runs_dir) == {f.name for f in folders}
    assert compared == [True, True, True]


def test_records_of_running_runs_are_read_without_a_comparison(
    runs_dir: Path, compared: list[bool]
) -> None:
    (folder,) = _indexed(runs_dir, status="running")
    record = store.read_raw_record(folder)  # no owner named: never found lost
    query.sync(runs_dir)
    query.sync(runs_dir)
    store.write_record(folder, {**record, "status": "ok"})
    assert index.query_rows(runs_dir)[0]["status"] == "ok"
    assert compared == [True, False, False]


def test_a_runs_folder_gone_lists_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    names, digest = fastpath.listing(tmp_path / "gone")
    assert names == []
    assert digest == fastpath.listing(tmp_path / "empty")[1] != fastpath.listing(tmp_path)[1]
