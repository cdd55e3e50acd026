"""The --where grammar: filters are expressions over columns, never programs (issue 11, item 12)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlops_nb import collect
from mlops_nb.errors import UsageError
from mlops_nb.main import main
from tests.results.factory import make_run, refused_where


@pytest.fixture
def store(runs_dir: Path) -> Path:
    for model, c, n, f1 in [("rf", 1, 10, 0.9), ("lr", 0.5, 20, 0.7), ("svm", 2, 30, 0.85)]:
        make_run(runs_dir, params={"model": model, "C": c, "n": n}, scraps={"f1": f1})
    return runs_dir


def ns(df: pd.DataFrame) -> list[int]:
    return [int(v) for v in df["params.n"].tolist()]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        pytest.param("model in ['rf', 'svm']", [10, 30], id="in-list"),
        pytest.param("model not in ('rf',)", [20, 30], id="not-in-tuple"),
        pytest.param("not model == 'rf'", [20, 30], id="not"),
        pytest.param("f1 * 100 > 80 or n == 20", [10, 20, 30], id="arith-or"),
        pytest.param("(n - 10) / 10 >= 1", [20, 30], id="arith-parens"),
        pytest.param("10 < n <= 30", [20, 30], id="chained"),
        pytest.param("C ** 2 > 1", [30], id="power"),
        pytest.param("-n < -15", [20, 30], id="unary-minus"),
        pytest.param("(f1 > 0.8) & ~(model == 'svm')", [10], id="pandas-operators"),
        pytest.param("n % 20 == 10", [10, 30], id="modulo"),
        pytest.param("params.C > scraps.f1", [10, 30], id="two-columns"),
        pytest.param("2 ** n > 2000", [20, 30], id="column-exponent"),
        pytest.param("n * 2 ** 70 > 2 ** 74", [20, 30], id="wide-number-meets-a-column"),
        pytest.param("10 ** 300 > C and (2 ** 511) ** 2 > n", [10, 20, 30], id="big-in-range"),
        pytest.param("(n > 15) * 10 + n > 25", [20, 30], id="booleans-are-numbers"),
    ],
)
def test_grammar(store: Path, expr: str, expected: list[int]) -> None:
    assert ns(collect(store, where=expr)) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        pytest.param("@os.system('touch {marker}') == 0", "not a valid filter", id="at-call"),
        pytest.param(
            "__import__('os').system('touch {marker}') == 0", "function call", id="import"
        ),
        pytest.param("f1.__class__.__mro__ == 1", "no column", id="dunder-attr-is-a-name"),
        pytest.param("open('{marker}', 'w') == 1", "function call", id="open"),
        pytest.param("model[0] == 'r'", "indexing", id="subscript"),
        pytest.param("(lambda: 1)() == 1", "function call", id="lambda"),
        pytest.param("[x for x in model] == 1", "ListComp", id="comprehension"),
        pytest.param("n in model", "list of literals", id="in-column"),
        pytest.param("n == 10 ** 10 ** 10", "power", id="huge-power"),
        pytest.param("model == 'a' * 1000000000", "arithmetic on a string", id="string-bomb"),
        pytest.param("n == 1 if True else 0", "IfExp", id="conditional"),
        pytest.param("(y := 1) == 1", "NamedExpr", id="walrus"),
        pytest.param("f'{{n}}' == '1'", "JoinedStr", id="f-string"),
        pytest.param("n is 10", "`is` with something other than None", id="is"),
        pytest.param("n is not model", "`is not` with something other than None", id="is-not"),
        pytest.param("n > None", "`>` with None", id="order-with-none"),
        pytest.param("n @ 2 == 1", "the operator '@'", id="matmul"),
        pytest.param("x" * 3000, "longer than", id="too-long"),
    ],
)
def test_hostile_or_unsupported_expressions_are_refused(
    store: Path, tmp_path: Path, expr: str, message: str
) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(UsageError, match=message):
        collect(store, where=expr.format(marker=marker))
    assert not marker.exists()


def test_hostile_filter_on_the_command_line(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in ("collect", "report"):
        rc = main([command, "--runs-dir", str(store), "--where", "@os.system('touch x') == 0"])
        assert rc == 2
        err = capsys.readouterr().err
        assert "not a valid filter expression" in err
        assert "Traceback" not in err
        assert not (tmp_path / "x").exists()


def test_type_errors_are_usage_errors(store: Path) -> None:
    with pytest.raises(UsageError, match=r"^where='model > 3': "):
        collect(store, where="model > 3")


BEYOND = "beyond ±2\\*\\*1024"


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        # big whole numbers: refused before the work, not after hours of it
        pytest.param("((10**1000)**1000)**1000 > C", BEYOND, id="nested-powers"),
        pytest.param("10 ** 1000 > C", BEYOND, id="power"),
        pytest.param("(10 ** 300) ** 4 > C", BEYOND, id="power-of-a-big-number"),
        pytest.param("-(2 ** 1000) ** 3 < C", BEYOND, id="negative-power"),
        pytest.param("2 ** 1000 * 2 ** 1000 > C", BEYOND, id="product"),
        pytest.param("(2 ** 1000 * 2 ** 20) * 2 ** 1000 > C", BEYOND, id="products"),
        pytest.param(f"{'9' * 400} > C", BEYOND, id="long-literal"),
        pytest.param("10.0 ** 1000 > C", "OverflowError", id="float-power-overflows"),
        # text in arithmetic: `name * 10**8` allocated gigabytes
        pytest.param("model * 100000000 == 'x'", "text column 'params.model'", id="text-times"),
        pytest.param("100000000 * params.model == 'x'", "text column", id="times-text"),
        pytest.param("model + model == 'rfrf'", "text column", id="text-plus-text"),
        pytest.param("model % 2 == 'x'", "text column", id="text-format"),
        pytest.param("-model == 'x'", "text column", id="text-negated"),
        pytest.param("name ** 2 == 1", "text column 'name'", id="empty-text-column"),
        pytest.param("started * 2 > 1", "date column 'started'", id="date-column"),
        pytest.param("'ab' * C == 'abab'", "arithmetic on a string", id="text-literal"),
        # not in the grammar at all
        pytest.param("C << 100000 > 0", "the operator '<<'", id="left-shift"),
        pytest.param("C ^ 1 == 0", "the operator '\\^'", id="xor"),
    ],
)
def test_unbounded_work_is_refused(store: Path, expr: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        collect(store, where=expr)


@pytest.mark.parametrize(
    "expr",
    ["((10**1000)**1000)**1000 > alpha", "params.model * 100000000 == 'x'"],
)
@pytest.mark.parametrize("command", ["collect", "report"])
def test_unbounded_filters_on_the_command_line(
    store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    expr: str,
) -> None:
    err = refused_where(command, store, expr, tmp_path, capsys, monkeypatch)
    (line,) = [line for line in err.splitlines() if "--where" in line]  # one line, no traceback
    assert line.startswith("mlops-nb: error: --where") and "is not allowed in a filter" in line
    assert "Traceback" not in err
