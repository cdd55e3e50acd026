"""Runs found through the index (``store.lookup``) are the runs the folder lookup finds
(``runs.resolve_run``), with the same messages; ``show`` and ``diff`` use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.execution.api import Run
from mlops_nb.main import main
from mlops_nb.store import index, lookup
from mlops_nb.store import runs as store
from tests.results.factory import make_run


@pytest.fixture
def runs(runs_dir: Path) -> list[Path]:
    made = [
        make_run(runs_dir, name="train"),
        make_run(runs_dir, name="eval"),
        make_run(runs_dir, name="train"),
        make_run(runs_dir),
    ]
    index.rebuild(runs_dir)
    return made


def refs(runs: list[Path]) -> list[str]:
    a, b, _, d = (p.name for p in runs)
    return [
        a,  # an exact id
        b[:18],  # a prefix of the whole id
        d.partition("Z-")[2][:4],  # a prefix of the random part
        "eval",  # a name
        "latest",
        "last",
        "-1",
        str(runs[1]),  # a folder path
    ]


def both(runs_dir: Path, ref: str) -> tuple[str, str]:
    def one(resolve: object) -> str:
        try:
            return str(resolve(runs_dir, ref))  # type: ignore[operator]
        except StoreError as e:
            return f"StoreError: {e.message}"

    return one(store.resolve_run), one(lookup.resolve_run)


def test_the_index_finds_what_the_folders_find(runs: list[Path], runs_dir: Path) -> None:
    for ref in refs(runs):
        by_folders, by_index = both(runs_dir, ref)
        assert by_index == by_folders, ref
        assert not by_index.startswith("StoreError"), ref
    with pytest.raises(StoreError) as e:  # a name two runs have: neither, with both ids
        lookup.resolve_run(runs_dir, "train")
    assert e.value.message.splitlines()[1:] == [f"  {runs[2].name}", f"  {runs[0].name}"]


# "eval!!" is not the run named "eval" (names are matched exactly, not by the slug in the id)
@pytest.mark.parametrize("ref", ["2026", "nosuch", "zz-top", "-", "train", "train!!", "eval!!"])
def test_the_same_errors(runs: list[Path], runs_dir: Path, ref: str) -> None:
    by_folders, by_index = both(runs_dir, ref)
    assert by_index == by_folders
    assert by_index.startswith("StoreError")


def test_a_run_added_since_the_index_was_written_is_found(runs: list[Path], runs_dir: Path) -> None:
    new = make_run(runs_dir, name="fresh")  # not indexed yet: the lookup syncs first
    assert lookup.resolve_runs(runs_dir, ["fresh", new.name[:20], "latest"]) == [new] * 3


def test_an_empty_store_and_no_store(runs_dir: Path, tmp_path: Path) -> None:
    runs_dir.mkdir(parents=True, exist_ok=True)
    with pytest.raises(StoreError, match=r"no runs in .* yet"):
        lookup.resolve_run(runs_dir, "latest")
    with pytest.raises(StoreError, match="no runs folder at"):
        lookup.resolve_run(tmp_path / "nothing", "abc")


def test_show_and_diff_take_prefixes(
    runs: list[Path], runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert Run.find(runs[1].name[:18], runs_dir=runs_dir).path == runs[1]
    assert main(["show", runs[3].name.partition("Z-")[2][:5], "--runs-dir", str(runs_dir)]) == 0
    assert capsys.readouterr().out.startswith(f"run {runs[3].name}")
    a, b = runs[0].name[:18], runs[1].name.partition("Z-")[2][:4]
    assert main(["diff", a, b, "--runs-dir", str(runs_dir), "--json"]) == 0
    out = capsys.readouterr().out
    assert runs[0].name in out and runs[1].name in out
