"""`reindex` reads only new or changed run folders and drops removed ones; --full rebuilds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mlops_nb import collect
from mlops_nb.main import main
from mlops_nb.store import index
from mlops_nb.store import runs as store
from mlops_nb.store.reindex import Refreshed, refresh
from tests.results.factory import make_run


@pytest.fixture
def three(runs_dir: Path) -> list[Path]:
    folders = [make_run(runs_dir, params={"i": i}, scraps={"f1": i / 10}) for i in range(3)]
    index.rebuild(runs_dir)
    return folders


def test_an_unchanged_record_is_not_read_again(runs_dir: Path, three: list[Path]) -> None:
    record = three[0] / store.RECORD
    st = record.stat()
    rec = store.read_record(three[0])
    store.write_record(three[0], {**rec, "scraps": {"f1": 0.77}}, final=True)
    os.utime(record, ns=(st.st_atime_ns, st.st_mtime_ns))  # same time: "unchanged"
    assert refresh(runs_dir) == Refreshed(0, 0, 0, 3)
    assert collect(runs_dir)["scraps.f1"].tolist()[0] == 0.0  # not read
    assert main(["reindex", "--full", "--runs-dir", str(runs_dir)]) == 0
    assert collect(runs_dir)["scraps.f1"].tolist()[0] == 0.77  # --full reads every folder


def test_new_changed_and_removed_folders(runs_dir: Path, three: list[Path]) -> None:
    new = make_run(runs_dir, params={"i": 9}, scraps={"f1": 0.9})
    rec = store.read_record(three[0])
    store.write_record(three[0], {**rec, "scraps": {"f1": 0.55}}, final=True)
    os.utime(three[0] / store.RECORD, ns=(1, 1))  # a changed time, whatever the clock does
    shutil.rmtree(three[1])
    (runs_dir / "not-a-run").mkdir()
    assert refresh(runs_dir) == Refreshed(1, 1, 1, 3)
    df = collect(runs_dir)
    assert sorted(df["id"]) == sorted([three[0].name, three[2].name, new.name])
    assert df.set_index("id").loc[three[0].name, "scraps.f1"] == 0.55
    # the same as a rebuild from every folder
    assert collect(runs_dir).equals(df)
    index.rebuild(runs_dir)
    assert collect(runs_dir).equals(df)


def test_a_record_gone_unreadable_is_dropped_like_a_rebuild_drops_it(
    runs_dir: Path, three: list[Path]
) -> None:
    (three[2] / store.RECORD).write_text("{not json")
    os.utime(three[2] / store.RECORD, ns=(2, 2))
    done = refresh(runs_dir)
    assert (done.removed, done.total) == (1, 2)


def test_a_missing_or_corrupt_index_is_rebuilt(runs_dir: Path, three: list[Path]) -> None:
    index.index_path(runs_dir).write_bytes(b"garbage, not sqlite")
    for suffix in ("-wal", "-shm"):
        Path(f"{index.index_path(runs_dir)}{suffix}").unlink(missing_ok=True)
    assert refresh(runs_dir) == Refreshed(3, 0, 0, 3, full=True)


@pytest.mark.parametrize(
    ("flags", "says"), [([], "(1 added, 0 updated, 0 removed)"), (["--full"], "(rebuilt)")]
)
def test_cli(
    runs_dir: Path,
    three: list[Path],
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    says: str,
) -> None:
    make_run(runs_dir, params={"i": 7})
    assert main(["reindex", "--runs-dir", str(runs_dir), *flags]) == 0
    assert (
        capsys.readouterr()
        .out.strip()
        .endswith(f"indexed 4 runs in {index.index_path(runs_dir)} {says}")
    )


def test_no_runs_folder_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reindex", "--runs-dir", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "no runs folder at" in err and "Traceback" not in err
