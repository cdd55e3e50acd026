"""Exact collect: full float precision and timestamps in json, requested columns kept when empty,
and a value set to None told apart from one a run does not have (collect and diff)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.results.collect import collect, explicit_nulls
from mlops_nb.results.diff import diff_lines, diff_runs
from tests.results.factory import make_run

THIRD = 1 / 3
TINY = 1.2345678901234567e-300


@pytest.fixture
def store(runs_dir: Path) -> Path:
    make_run(runs_dir, params={"depth": None, "lr": THIRD}, scraps={"f1": THIRD, "note": None})
    make_run(runs_dir, params={"depth": 3, "lr": 0.1}, scraps={"f1": TINY})
    make_run(runs_dir, params={"lr": 0.2}, scraps={"f1": 2**53 + 0.0})
    return runs_dir


def cli(store: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["collect", "--runs-dir", str(store), *args]) == 0
    return capsys.readouterr().out


def test_json_keeps_full_precision_and_timestamps(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = json.loads(cli(store, capsys, "--format", "json"))
    assert [r["scraps.f1"] for r in rows] == [THIRD, TINY, 2**53]
    assert rows[0]["params.lr"] == THIRD
    records = [json.loads(p.read_text()) for p in sorted(store.glob("*/run.json"))]
    assert [r["started"] for r in rows] == [
        r["started_at"] if "." in r["started_at"] else r["started_at"][:-1] + ".000000Z"
        for r in records
    ]


def test_json_tells_none_from_absent(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = json.loads(cli(store, capsys, "--format", "json"))
    assert rows[0]["params.depth"] is None
    assert rows[1]["params.depth"] == 3
    assert "params.depth" not in rows[2]
    assert rows[0]["scraps.note"] is None
    assert "scraps.note" not in rows[1]


def test_frame_knows_which_nulls_were_given(store: Path) -> None:
    df = collect(store, sort="lr", desc=True)  # survives sorting
    nulls = explicit_nulls(df)
    assert set(nulls) == {"params.depth", "scraps.note"}
    assert df.loc[df["id"].isin(list(nulls["params.depth"])), "params.lr"].tolist() == [THIRD]


def test_table_shows_none_and_keeps_requested_empty_columns(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = cli(store, capsys, "--columns", "depth", "lr", "id", "--sort", "lr")
    lines = out.splitlines()
    assert lines[0].split() == ["params.depth", "params.lr", "id"]
    cells = [line.split()[0] for line in lines[2:]]
    assert cells == ["3", "0.2", "None"]
    assert len(lines[3].split()) == 2  # the run without depth: empty, not None
    # a column that is empty in every row is still shown when asked for
    out = cli(store, capsys, "--columns", "id", "error")
    assert out.splitlines()[0].split() == ["id", "error"]


def test_csv_writes_none_for_none(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = cli(store, capsys, "--format", "csv", "--columns", "depth")
    assert out.splitlines() == ["params.depth", "None", "3", '""']  # pandas quotes a lone empty


def test_diff_tells_none_from_absent(store: Path) -> None:
    a, _, c = sorted(p for p in store.iterdir() if (p / "run.json").exists())
    d = diff_runs(a, c)
    (depth,) = [ch for ch in d.params if ch.name == "depth"]
    assert (depth.a, depth.a_missing, depth.b, depth.b_missing) == (None, False, None, True)
    assert "  depth: None -> (missing)" in diff_lines(d)
    assert d.as_dict()["params"][0]["b_missing"] is True
