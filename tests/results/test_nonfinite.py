"""Non-finite values in collect and diff: a NaN that a run has is a value (strict JSON's
``{"$numberDouble": "NaN"}``, ``nan`` in csv and tables), not a missing one; a NaN is no difference
from itself (issue 11, fixes after the merge)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.results.collect import collect, nan_mask
from mlops_nb.results.diff import diff_lines, diff_runs
from mlops_nb.results.formats import export
from tests.results.factory import make_run

NAN = {"$numberDouble": "NaN"}
INF = {"$numberDouble": "Infinity"}


@pytest.fixture
def store(runs_dir: Path) -> Path:
    make_run(runs_dir, params={"alpha": math.nan, "k": 1}, scraps={"loss": math.nan, "f1": 0.5})
    make_run(runs_dir, params={"alpha": 0.1, "k": 2}, scraps={"loss": math.inf, "f1": None})
    make_run(runs_dir, params={"k": 3}, scraps={"loss": 0.25})
    return runs_dir


def cli(store: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["collect", "--runs-dir", str(store), *args]) == 0
    return capsys.readouterr().out


def test_json_writes_nan_as_strict_json_and_tells_it_from_none_and_absent(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = json.loads(cli(store, capsys, "--format", "json"))
    assert [r.get("params.alpha", "absent") for r in rows] == [NAN, 0.1, "absent"]
    assert [r["scraps.loss"] for r in rows] == [NAN, INF, 0.25]
    assert [r.get("scraps.f1", "absent") for r in rows] == [0.5, None, "absent"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--sort", "k", "--desc"], id="sorted"),
        pytest.param(["--where", "k >= 1", "--sort", "k", "--desc"], id="filtered"),
        pytest.param(["--columns", "k,alpha,loss", "--sort", "k", "--desc"], id="no-id-column"),
    ],
)
def test_json_nan_marks_survive_sorting_filtering_and_column_choice(
    store: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    rows = json.loads(cli(store, capsys, "--format", "json", *args))
    assert [r["params.k"] for r in rows] == [3, 2, 1]
    assert [r.get("params.alpha", "absent") for r in rows] == ["absent", 0.1, NAN]
    assert [r["scraps.loss"] for r in rows] == [0.25, INF, NAN]


def test_csv_writes_nan_like_pandas_floats_on_both_paths(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = cli(store, capsys, "--format", "csv", "--columns", "alpha,loss,f1")
    lines = plain.splitlines()
    assert lines == ["params.alpha,scraps.loss,scraps.f1", "nan,nan,0.5", "0.1,inf,None", ",0.25,"]
    # the pandas path (collect() then export) writes the same text as the fast path
    assert export(collect(store, columns=["alpha", "loss", "f1"]), "csv") == plain


def test_table_shows_nan(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = cli(store, capsys, "--columns", "k,alpha,loss,f1")
    rows = [line.split() for line in out.splitlines()[2:]]
    assert rows == [["1", "nan", "nan", "0.5"], ["2", "0.1", "inf", "None"], ["3", "0.25"]]


def test_frame_marks_nan_and_where_treats_it_as_missing(store: Path) -> None:
    df = collect(store)
    assert nan_mask(df, "scraps.loss") == [True, False, False]
    assert nan_mask(df, "params.k") == [False, False, False]
    assert collect(store, where="loss > 0")["params.k"].tolist() == [2, 3]


def test_diff_of_a_run_with_itself_has_no_nan_difference(
    runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(
        runs_dir,
        params={"alpha": math.nan, "grid": [math.nan, 1.0]},
        scraps={"loss": math.nan, "best": math.inf, "worst": -math.inf, "h": {"a": math.nan}},
    )
    d = diff_runs(run, run)
    assert d.identical, diff_lines(d)
    assert main(["diff", run.name, run.name, "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert "do not differ" in out
    assert "nan" not in out


def test_diff_still_shows_nan_against_a_number(runs_dir: Path) -> None:
    a = make_run(runs_dir, scraps={"loss": math.nan, "h": [math.nan]})
    b = make_run(runs_dir, scraps={"loss": 0.5, "h": [0.5]})
    d = diff_runs(a, b)
    assert [(c.name, math.isnan(c.a), c.b) for c in d.scraps[:1]] == [("loss", True, 0.5)]
    assert [c.name for c in d.scraps] == ["loss", "h"]
    assert "  loss: nan -> 0.5" in diff_lines(d)
