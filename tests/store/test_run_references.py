"""A run reference names one run or none, wherever a run is named: a name several runs share is
refused with their ids (as a shared id prefix is), never read as the newest of them; an empty
reference is an empty value; a name a reference could not mean is refused when the run is made.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlops_nb.errors import StoreError, UsageError
from mlops_nb.execution.api import Run
from mlops_nb.main import main
from mlops_nb.store import index, lookup, refs
from mlops_nb.store import runs as store
from tests import nbbuild as b
from tests.results.factory import make_run


def _run_folders(runs_dir: Path) -> list[str]:
    return sorted(p.name for p in runs_dir.iterdir() if (p / store.RECORD).is_file())


def _commands(ref: str, other: str, tmp_path: Path) -> dict[str, list[str]]:
    return {
        "show": ["show", ref],
        "lineage": ["show", ref, "--lineage"],
        "json": ["show", ref, "--json"],
        "diff-a": ["diff", ref, other],
        "diff-b": ["diff", other, ref],
        "env-export": ["env", "export", ref, "-o", str(tmp_path / "lock")],
        "env-diff": ["env", "diff", ref, other],
        "promote": ["promote", "mm", ref, "--alias", "live"],
        "rerun": ["rerun", ref, "--check"],
    }


@pytest.fixture
def shared(runs_dir: Path) -> tuple[Path, Path, Path]:
    """Two runs named ``baseline`` (an original and, say, a copy made by hand) and ``other``."""
    first = make_run(runs_dir, name="baseline", scraps={"f1": 0.5})
    second = make_run(runs_dir, name="baseline", scraps={"f1": 0.5})
    other = make_run(runs_dir, name="other", scraps={"f1": 0.7})
    index.rebuild(runs_dir)
    return first, second, other


@pytest.mark.parametrize("command", list(_commands("x", "y", Path()).keys()), ids=lambda c: str(c))
def test_a_shared_name_is_refused_with_the_candidates(
    shared: tuple[Path, Path, Path],
    runs_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    first, second, other = shared
    before = _run_folders(runs_dir)
    argv = _commands("baseline", other.name, tmp_path)[command]
    assert main([*argv, "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("mlops-nb: error: 'baseline' matches 2 runs")
    assert err[1:] == [f"  {second.name}", f"  {first.name}"]  # the newest first
    assert _run_folders(runs_dir) == before  # nothing ran
    assert not (runs_dir / "registry").exists() and not (tmp_path / "lock").exists()


def test_the_python_api_and_the_folder_lookup_refuse_it_too(
    shared: tuple[Path, Path, Path], runs_dir: Path
) -> None:
    for find in (
        lambda: Run.find("baseline", runs_dir=runs_dir).path,
        lambda: store.resolve_run(runs_dir, "baseline"),  # a read-only store's lookup
        lambda: lookup.resolve_runs(runs_dir, ["other", "baseline"]),
    ):
        with pytest.raises(StoreError, match="'baseline' matches 2 runs"):
            find()
    assert Run.find("other", runs_dir=runs_dir).path == shared[2]


def test_a_name_is_matched_whole_not_as_the_end_of_a_longer_name(runs_dir: Path) -> None:
    exact = make_run(runs_dir, name="rerun-1")
    make_run(runs_dir, name="baseline-rerun-1")  # newer, and its id ends in "-rerun-1" too
    index.rebuild(runs_dir)
    assert lookup.resolve_run(runs_dir, "rerun-1") == exact
    assert store.resolve_run(runs_dir, "rerun-1") == exact
    with pytest.raises(StoreError, match="no run 'run-1'"):
        lookup.resolve_run(runs_dir, "run-1")


def test_a_name_wins_over_the_start_of_another_id(runs_dir: Path) -> None:
    """review7 M8: a name made of hex letters or digits stays reachable by its whole name."""
    named = make_run(runs_dir, name="cafe")
    other = make_run(runs_dir)
    stamp, _, _ = other.name.partition("Z-")
    renamed = runs_dir / f"{stamp}Z-cafe01"  # a random part starting with the name
    os.rename(other, renamed)
    for resolve in (lookup.resolve_run, store.resolve_run):
        assert resolve(runs_dir, "cafe") == named
        assert resolve(runs_dir, "cafe01") == renamed
        assert resolve(runs_dir, "caf") == renamed  # not a name: the id prefix
        with pytest.raises(StoreError, match="matches 2 runs"):
            resolve(runs_dir, "2026")  # not a name here: a prefix of both ids


def test_past_ten_candidates_it_says_how_many_more_and_how_to_list_them(runs_dir: Path) -> None:
    made = [make_run(runs_dir, name="x") for _ in range(refs.SHOWN + 2)]
    with pytest.raises(StoreError) as e:
        lookup.resolve_run(runs_dir, "x")
    lines = e.value.message.splitlines()
    assert lines[0].startswith(f"'x' matches {refs.SHOWN + 2} runs")
    assert lines[1 : refs.SHOWN + 1] == [f"  {p.name}" for p in made[::-1][: refs.SHOWN]]
    assert lines[-1].startswith("  and 2 more (list them: mlops-nb collect --columns id name")


@pytest.mark.parametrize("ref", ["", " ", "\t"], ids=["empty", "space", "tab"])
def test_an_empty_reference_is_an_empty_value(
    shared: tuple[Path, Path, Path],
    runs_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    ref: str,
) -> None:
    for argv in _commands(ref, shared[2].name, tmp_path).values():
        assert main([*argv, "--runs-dir", str(runs_dir)]) == 2, argv
        err = capsys.readouterr().err
        assert f"the run reference {ref!r} is an empty value" in err, argv
    for resolve in (lookup.resolve_run, store.resolve_run):
        with pytest.raises(UsageError, match="is an empty value"):
            resolve(runs_dir, ref)


BAD_NAMES = {
    "": "is an empty value",
    "  ": "is an empty value",
    "///": "has no letter or digit",
    "latest": "is reserved",
    "last": "is reserved",
    "-1": "is reserved",
    "latest!": "is reserved",  # its id would end in "-latest"
    "..": "has no letter or digit",
}


@pytest.mark.parametrize(("name", "why"), BAD_NAMES.items(), ids=lambda v: repr(v))
def test_a_name_a_reference_could_not_mean_is_refused_before_anything_runs(
    runs_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, why: str
) -> None:
    nb = b.write(tmp_path / "nb.ipynb", b.params("x = 1"), b.code("y = x"))
    grid = tmp_path / "grid.yaml"
    grid.write_text("x: [1, 2]\n", encoding="utf-8")
    for argv in (
        ["run", str(nb), "--name", name],
        ["run", str(nb), "--name", name, "--prepare-only"],
        ["sweep", str(nb), "--grid", str(grid), "--name", name],
    ):
        assert main([*argv, "--runs-dir", str(runs_dir)]) == 2, argv
        assert f"the run name {name!r} {why}" in capsys.readouterr().err, argv
    assert not runs_dir.exists() or not _run_folders(runs_dir)
    import mlops_nb

    with pytest.raises(UsageError, match=why):
        mlops_nb.run(nb, runs_dir=runs_dir, name=name)


@pytest.mark.parametrize("name", ["my run", "Latest", "v1.2", "naïve", "1", "exp/1", "../x"])
def test_names_a_reference_can_mean_are_taken(runs_dir: Path, name: str) -> None:
    lookup.check_name(name)
    folder = make_run(runs_dir, name=name)
    assert lookup.resolve_run(runs_dir, folder.name) == folder
    if name != "1":  # "1" may also start the random part of the id: then it is refused
        assert lookup.resolve_run(runs_dir, name) == folder


def test_a_reference_with_a_slash_is_a_path_first_then_a_name(
    runs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_run(runs_dir, name="exp/1")  # the path below wins over this name
    backslash = make_run(runs_dir, name="exp\\1")
    index.rebuild(runs_dir)
    other = make_run(tmp_path / "elsewhere", name="y")
    monkeypatch.chdir(other.parent)
    (other.parent / "exp").mkdir()
    os.rename(other, other.parent / "exp" / "1")  # a run folder at the path exp/1
    for resolve in (lookup.resolve_run, store.resolve_run):
        assert resolve(runs_dir, "exp/1") == Path("exp/1")
        assert resolve(runs_dir, "exp\\1") == backslash  # no folder there: the name (exactly)
        with pytest.raises(StoreError, match=r"^nope/x: not a run folder, nor the name of a run"):
            resolve(runs_dir, "nope/x")
        with pytest.raises(StoreError, match=r"^\.\.: not a run folder"):
            resolve(runs_dir, "..")
