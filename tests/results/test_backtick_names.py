"""A column in backticks (`` `params.C` ``, `` `scraps.my metric` ``) names it in ``--sort``,
``--columns`` and the report's ``--sort``/``--metrics`` as it does in ``--where`` (review4 item
13: the README said so; only ``--where`` took them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.results.collect import collect
from tests.results.factory import make_run


@pytest.fixture
def store(runs_dir: Path) -> Path:
    for i in range(3):
        make_run(runs_dir, params={"C": i, "my p": i}, scraps={"y": 1.0 * i, "my metric": 2.0 * i})
    collect(runs_dir)  # the index is built: no notice on the commands' stderr
    return runs_dir


def _cli(capsys: pytest.CaptureFixture[str], store: Path, *argv: str) -> tuple[int, str]:
    code = main([*argv, "--runs-dir", str(store)])
    got = capsys.readouterr()
    return code, got.out + got.err


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_sort_and_columns_take_backticks(
    store: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def listed(sort: str, columns: str) -> tuple[int, str]:
        argv = ["--format", fmt, "--sort", sort, "--desc", "--columns", columns]
        return _cli(capsys, store, "collect", *argv)

    plain = listed("y", "scraps.my metric,params.my p")
    quoted = listed("`scraps.y`", "`my metric`,`params.my p`")
    assert plain[0] == 0 and quoted == plain
    rows = [line for line in plain[1].splitlines() if line[:1].isdigit()]
    assert [float(r.replace(",", " ").split()[0]) for r in rows] == [4.0, 2.0, 0.0]


def test_the_python_keywords_and_an_empty_selection_take_them_too(store: Path) -> None:
    df = collect(store, sort="`C`", desc=True, columns=["`params.C`", "`scraps.my metric`"])
    assert list(df.columns) == ["params.C", "scraps.my metric"]
    assert df["params.C"].tolist() == [2, 1, 0]
    none = collect(store, where="C > 9", columns=["`scraps.y`", "`my p`"])
    assert none.empty and list(none.columns) == ["scraps.y", "params.my p"]


def test_report_sort_and_metrics_take_them(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    code, text = _cli(
        capsys,
        store,
        "report",
        "--sort",
        "`scraps.y`",
        "--metrics",
        "`y`,`my metric`",
        "-o",
        str(out),
    )
    assert code == 0, text
    assert "my metric" in out.read_text(encoding="utf-8")


def test_an_unknown_name_in_backticks_is_still_one_line(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _cli(capsys, store, "collect", "--sort", "`scraps.nope`")
    assert code == 2 and "no column 'scraps.nope'" in text and text.count("\n") == 1
