"""A whole number past the Int64 range keeps every other run's value a number: ``collect``'s
``--sort`` and ``--where`` stay numeric and exact, json writes numbers, csv and the table the
exact digits, and the report's leaderboard ranks best first (review7 H1: one such value made the
column text for every run)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlops_nb.main import main
from tests.results.factory import make_run

BIG = 10**25  # past Int64; as a float 1e+25
HUGE = 10**400  # past the float range too


@pytest.fixture
def store(runs_dir: Path) -> Path:
    for name, score, n in (
        ("r18", 18, 3),
        ("rbig", BIG, 1180591620717411303424),
        ("r108", 108, 7),
        ("rhalf", 0.5, None),
        ("rhuge", HUGE, 2),
    ):
        make_run(runs_dir, name=name, params={"n": n}, scraps={"score": score})
    make_run(runs_dir, name="rnone", params={}, scraps={})
    return runs_dir


def collect(store: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["collect", "--runs-dir", str(store), "--columns", "name", "score", "n", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def names(text: str) -> list[str]:
    return [line.split()[0] for line in text.splitlines()[2:]]


def test_sort_is_numeric_and_missing_values_go_last(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desc = names(collect(store, capsys, "--sort", "score", "--desc"))
    assert desc == ["rhuge", "rbig", "r108", "r18", "rhalf", "rnone"]
    asc = names(collect(store, capsys, "--sort", "score"))
    assert asc == ["rhalf", "r18", "r108", "rbig", "rhuge", "rnone"]
    by_n = names(collect(store, capsys, "--sort", "n", "--desc"))
    assert by_n[:4] == ["rbig", "r108", "r18", "rhuge"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("n > 5", ["rbig", "r108"]),
        ("n <= 5", ["r18", "rhuge"]),
        ("score > 100", ["rbig", "r108", "rhuge"]),
        (f"score == {BIG}", ["rbig"]),
        (f"score > {BIG} - 1", ["rbig", "rhuge"]),  # exact: 1e25 - 1 would be 1e25 as a float
        ("score in [18, 108]", ["r18", "r108"]),
        ("score != 18", ["rbig", "r108", "rhalf", "rhuge", "rnone"]),
        ("not (n > 5)", ["r18", "rhalf", "rhuge", "rnone"]),
        ("n == None", ["rhalf", "rnone"]),
        ("n * 2 > 10", ["rbig", "r108"]),  # arithmetic: as floats
    ],
)
def test_where_compares_the_column_as_numbers(
    store: Path, capsys: pytest.CaptureFixture[str], where: str, expected: list[str]
) -> None:
    assert names(collect(store, capsys, "--where", where)) == expected


def test_where_with_text_says_the_column_holds_numbers(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["collect", "--runs-dir", str(store), "--where", "n > 'a'"])
    err = capsys.readouterr().err
    assert code == 2
    assert "the number column 'params.n'" in err.strip().splitlines()[-1]


def test_json_writes_numbers_and_csv_and_table_the_exact_digits(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = json.loads(collect(store, capsys, "--format", "json"))
    assert [r.get("scraps.score") for r in rows] == [18, BIG, 108, 0.5, HUGE, None]
    assert [r.get("params.n") for r in rows][:3] == [3, 1180591620717411303424, 7]
    assert all(type(r.get("params.n")) is int for r in rows[:3])
    expected = (
        "name,scraps.score,params.n\n"
        f"r18,18,3\nrbig,{BIG},1180591620717411303424\nr108,108,7\nrhalf,0.5,None\n"
        f"rhuge,{HUGE},2\nrnone,,\n"
    )
    assert collect(store, capsys, "--format", "csv") == expected  # without pandas
    assert collect(store, capsys, "--format", "csv", "--sort", "started") == expected  # pandas
    table = collect(store, capsys).splitlines()[2:]
    assert table[1].split() == ["rbig", str(BIG), "1180591620717411303424"]
    assert table[3].split() == ["rhalf", "0.5", "None"]


def test_the_report_ranks_best_first(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    args = ["report", "--runs-dir", str(store), "-o", str(out), "--sort", "score"]
    assert main(args) == 0
    page = out.read_text(encoding="utf-8")
    board = re.search(r'<table class="leaderboard".*?</table>', page, re.S)
    assert board
    ranked = re.findall(r'<tr class="ok"><td class="num">\d+</td><td><a [^>]*>(\w+)</a>', board[0])
    assert ranked == ["rhuge", "rbig", "r108", "r18", "rhalf", "rnone"]
    # exact numbers are numbers: plotted against the parameter (an int past the float range
    # at the top of the axis) and listed with the numbers
    assert "score against n" in page
    assert '<td class="num sort">' + str(HUGE) + "</td>" in board[0]


def test_parquet_keeps_the_digits(store: Path, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    out = tmp_path / "c.parquet"
    args = ["collect", "--runs-dir", str(store), "--format", "parquet", "-o", str(out)]
    assert main(args) == 0
    df = pd.read_parquet(out)
    assert df["scraps.score"].tolist()[:2] == ["18", str(BIG)]
    assert df["params.n"].tolist()[1] == "1180591620717411303424"
