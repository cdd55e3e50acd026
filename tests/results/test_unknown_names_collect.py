"""`collect` and `export` (CLI and Python) treat a filter naming a sweep, pipeline or notebook
the store does not have as `report` does: one line (what is missing, what exists, how to list
it), exit 2. A filter of known names that matches no run is exit 0 with "no runs match" /
"nothing to export", whatever `--columns`, `--sort` or `--where` name. A sweep prefix of two
sweeps is refused with the candidates, as `show` refuses an ambiguous run prefix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import mlops_nb
from mlops_nb.errors import UsageError
from mlops_nb.main import main
from mlops_nb.store import index
from tests.results.factory import make_run


@pytest.fixture
def store(runs_dir: Path) -> Path:
    pipe = {"name": "etl", "run_id": "inv-1", "step": "load", "upstream": {}}
    make_run(runs_dir, params={"C": 1}, scraps={"f1": 0.5}, sweep_id="train-aaa111")
    make_run(runs_dir, params={"C": 2}, scraps={"f1": 0.6}, sweep_id="train-aaa111")
    make_run(runs_dir, params={"C": 3}, scraps={"f1": 0.7}, sweep_id="train-bbb222")
    make_run(runs_dir, notebook="nb/eda.ipynb", scraps={"rows": 3}, pipeline=pipe)
    index.rebuild(runs_dir)  # its notice is not the line under test
    return runs_dir


UNKNOWN = [
    pytest.param(
        ["--sweep", "NOSUCH"], "no sweep 'NOSUCH'", "its sweeps: train-aaa111", id="sweep"
    ),
    pytest.param(["--pipeline", "nope"], "no pipeline 'nope'", "its pipelines: etl", id="pipeline"),
    pytest.param(["--notebook", "zzz"], "no notebook 'zzz'", "nb/eda.ipynb", id="notebook"),
    pytest.param(  # the sweep is known, the notebook not: the unknown one is named
        ["--sweep", "train-a", "--notebook", "nothere"], "no notebook 'nothere'", "", id="both"
    ),
    pytest.param(  # the review's: columns no run of a missing sweep has
        ["--sweep", "a692e5", "--columns", "id", "status", "f1"], "no sweep 'a692e5'", "", id="cols"
    ),
]
COMMANDS = [
    pytest.param(["collect"], id="collect"),
    pytest.param(["collect", "--format", "csv"], id="collect-csv"),  # the pandas-free path
    pytest.param(["collect", "--format", "json"], id="collect-json"),
    pytest.param(["export", "mlflow", "--dry-run"], id="export"),
]


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert captured.out == ""
    return err


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("args", "what", "known"), UNKNOWN)
def test_an_unknown_name_is_one_line_and_exit_2(
    store: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    args: list[str],
    what: str,
    known: str,
) -> None:
    if command[0] == "export" and "--columns" in args:
        args = args[:2]
    assert main([*command, "--runs-dir", str(store), *args]) == 2
    err = one_line(capsys)
    assert what in err and known in err
    assert "mlops-nb collect" in err or "ls " in err  # how to list what exists


@pytest.mark.parametrize(
    "keywords",
    [{"sweep": "NOSUCH"}, {"pipeline": "nope"}, {"notebook": "zzz.ipynb"}],
    ids=["sweep", "pipeline", "notebook"],
)
def test_the_python_api_raises_what_build_report_raises(
    store: Path, tmp_path: Path, keywords: dict[str, Any]
) -> None:
    from mlops_nb.report import build_report

    kind, value = next(iter(keywords.items()))
    message = re.escape(f"no {kind} {value!r} in {store}")
    with pytest.raises(UsageError, match=message):
        mlops_nb.collect(store, **keywords)
    with pytest.raises(UsageError, match=message):
        mlops_nb.collect(store, filter=mlops_nb.RunFilter(**keywords))
    with pytest.raises(UsageError, match=message):
        mlops_nb.export("mlflow", runs_dir=store, dry_run=True, **keywords)
    with pytest.raises(UsageError, match=message):
        build_report(store, output=tmp_path / "r.html", **keywords)


NO_MATCH = [
    pytest.param(["--sweep", "train-a", "--status", "failed"], id="status"),
    pytest.param(["--where", "f1 > 5"], id="where"),
    pytest.param(["--pipeline", "etl", "--sweep", "train-aaa111"], id="known-names"),
]


@pytest.mark.parametrize("args", NO_MATCH)
def test_known_names_matching_no_run_stay_exit_0(
    store: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert main(["collect", "--runs-dir", str(store), *args]) == 0
    assert capsys.readouterr().out.strip() == "no runs match."
    assert main(["export", "mlflow", "--runs-dir", str(store), "--dry-run", *args]) == 0
    assert capsys.readouterr().out.strip() == "mlflow: nothing to export"


@pytest.mark.parametrize(
    "more",
    [
        pytest.param(["--columns", "id", "status", "f1", "nosuch"], id="columns"),
        pytest.param(["--sort", "f1", "--desc"], id="sort"),
        pytest.param(["--where", "rows > 1", "--sort", "C"], id="where-on-another-column"),
        pytest.param(["--columns", "f1", "--format", "csv"], id="csv"),
    ],
)
def test_with_no_rows_a_column_no_run_has_is_no_runs_match(
    store: Path, capsys: pytest.CaptureFixture[str], more: list[str]
) -> None:
    args = ["collect", "--runs-dir", str(store), "--sweep", "train-a", "--status", "failed"]
    assert main([*args, *more]) == 0
    out = capsys.readouterr().out.strip()
    assert out == "no runs match." or out.splitlines() == [more[1]]  # csv: its header only
    df = mlops_nb.collect(store, sweep="train-a", status="failed", columns=["id", "f1", "C"])
    assert df.empty and list(df.columns) == ["id", "f1", "C"]  # no run to name them otherwise


def test_with_no_rows_a_where_that_does_not_parse_is_still_refused(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["collect", "--runs-dir", str(store), "--status", "failed", "--where", "f1 >"]
    assert main(args) == 2
    assert "--where 'f1 >'" in one_line(capsys)


@pytest.mark.parametrize("command", [*COMMANDS, pytest.param(["report"], id="report")])
@pytest.mark.parametrize("prefix", ["train", "train-"])
def test_a_prefix_of_two_sweeps_is_refused_with_both(
    store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    prefix: str,
) -> None:
    out = ["-o", str(tmp_path / "r.html")] if command == ["report"] else []
    assert main([*command, "--runs-dir", str(store), "--sweep", prefix, *out]) == 2
    err = one_line(capsys)
    assert f"sweep {prefix!r} matches 2 sweeps" in err
    assert "train-aaa111, train-bbb222" in err and "give more of the id" in err
    assert not (tmp_path / "r.html").exists()
    with pytest.raises(UsageError, match="matches 2 sweeps"):
        mlops_nb.collect(store, sweep=prefix)


def test_a_prefix_of_one_sweep_and_a_whole_id_select_it(store: Path) -> None:
    assert len(mlops_nb.collect(store, sweep="train-a")) == 2
    assert len(mlops_nb.collect(store, sweep="train-bbb222")) == 1
    result = mlops_nb.export("mlflow", runs_dir=store, sweep="train-b", dry_run=True)
    assert result.count("new", kind="run") == 1


def test_a_sweep_known_only_by_its_record_is_a_candidate(store: Path) -> None:
    """A sweep that has a record but no run yet still makes a prefix ambiguous."""
    (store / "sweeps").mkdir(exist_ok=True)
    (store / "sweeps" / "eda-ccc333.json").write_text("{}", encoding="utf-8")
    (store / "sweeps" / "eda-ddd444.json").write_text("{}", encoding="utf-8")
    with pytest.raises(UsageError, match=r"'eda' matches 2 sweeps .*: eda-ccc333, eda-ddd444;"):
        mlops_nb.collect(store, sweep="eda")
    assert mlops_nb.collect(store, sweep="eda-c").empty  # known, no runs: no error
