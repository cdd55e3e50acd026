"""Whole numbers past the Int64 range keep their digits in ``collect`` (table, csv by the fast
path and by pandas, json), never rounded to a float (``1e+26``); a report over runs with ±inf
parameters draws its parallel plot without a numpy warning (pytest: warnings are errors)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.main import main
from mlops_nb.results.collect import column_kind
from tests.results.factory import make_run

BIG = 99999999999999999999999999  # a float holds it as 1e+26
JUST_PAST = 2**63  # one past Int64, exact as a float but not as Int64


@pytest.fixture
def store(runs_dir: Path) -> Path:
    make_run(runs_dir, params={"n": BIG, "m": 1, "r": 0.5})
    make_run(runs_dir, params={"n": 2, "m": JUST_PAST, "r": 2**70})
    make_run(runs_dir, params={"n": -BIG, "m": 3})
    return runs_dir


def cli(store: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert (
        main(["collect", "--runs-dir", str(store), "--columns", "params.n", "params.m", *args]) == 0
    )
    return capsys.readouterr().out


def test_ints_past_int64_keep_their_digits(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = cli(store, capsys).splitlines()[2:]
    assert [line.split() for line in table] == [
        [str(BIG), "1"],
        ["2", str(JUST_PAST)],
        [str(-BIG), "3"],
    ]
    expected = f"params.n,params.m\n{BIG},1\n2,{JUST_PAST}\n{-BIG},3\n"
    assert cli(store, capsys, "--format", "csv") == expected  # the fast path, without pandas
    assert cli(store, capsys, "--format", "csv", "--sort", "started") == expected  # pandas
    import json

    rows = json.loads(cli(store, capsys, "--format", "json"))
    assert [int(r["params.n"]) for r in rows] == [BIG, 2, -BIG]


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([1, None, 2**63 - 1], "Int64"),
        ([1, 2**63], "number"),
        ([-(2**63) - 1], "number"),
        ([0.5, 2**70], "number"),
        ([0.5, 2], "Float64"),
        ([0.5, 10**400], "number"),  # past the float range too
    ],
)
def test_the_column_kind_of_whole_numbers(values: list[object], kind: str) -> None:
    assert column_kind(values) == kind


def test_the_parallel_plot_of_infinite_parameters_warns_nothing() -> None:
    pytest.importorskip("matplotlib")
    from mlops_nb.report.plots import parallel_plot
    from mlops_nb.report.rows import Rows

    data: dict[str, list[Any]] = {
        "id": ["a", "b", "c", "d"],
        "params.alpha": [0.1, math.inf, -math.inf, 0.2],
        "params.beta": [math.inf, math.inf, 1.0, 2.0],
        "scraps.f1": [0.5, 0.6, 0.7, 0.8],
    }
    kinds = dict.fromkeys(data, "Float64") | {"id": "string"}
    df = Rows(tuple(data), kinds, data, {})
    assert parallel_plot(df, ["params.alpha", "params.beta"], "scraps.f1", "id") is not None
