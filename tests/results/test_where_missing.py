"""--where with missing values and mismatched types (review3, findings 3 and 5): None means
missing, a filter and its negation split the runs, and a filter that does not apply to a column
says so in one line (which column, its type, what it met, how to fix it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_nb import collect
from mlops_nb.errors import UsageError
from mlops_nb.pipeline import rules
from tests.results.factory import make_run, refused_where

# every column has runs without a value (key left out) and, for y and flag, runs set to None
RUNS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"y": None, "model": "rf", "n": 1}, {"f1": 0.9, "flag": True}),
    ({"y": 0.5, "model": "lr", "name": "base"}, {"f1": 0.4}),
    ({"y": 2.0, "n": 3}, {"flag": False}),
    ({"model": "rf", "n": 4}, {"flag": None}),
    ({"y": None}, {"f1": 0.7, "flag": True}),
    ({"n": 6}, {}),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("where") / "runs"
    for params, scraps in RUNS:
        rest = {k: v for k, v in params.items() if k != "name"}
        make_run(runs, params=rest, scraps=scraps, name=params.get("name"))
    collect(runs)  # the index exists: the CLI tests' stderr has no "rebuilding it" note
    return runs


def ids(store: Path, where: str) -> set[str]:
    return set(collect(store, where=where)["id"])


def rows(store: Path, where: str) -> list[int]:
    """The positions (in RUNS) of the runs ``where`` keeps."""
    every = list(collect(store)["id"])
    return sorted(every.index(i) for i in ids(store, where))


@pytest.mark.parametrize(
    ("exprs", "expected"),
    [
        (["y == None", "y is None", "None == y", "y in [None]", "not y is not None"], [0, 3, 4, 5]),
        (["y != None", "y is not None", "y not in [None]", "not (y == None)"], [1, 2]),
        (["flag == None", "flag is None", "~(flag != None)"], [1, 3, 5]),
        (["model is None", "model == None"], [2, 4, 5]),
        (["f1 != None and n == None"], [1, 4]),
        (["y == None == None"], [0, 3, 4, 5]),
    ],
)
def test_none_means_missing(store: Path, exprs: list[str], expected: list[int]) -> None:
    for expr in exprs:
        assert rows(store, expr) == expected, expr


def test_missing_fails_every_comparison_but_not_equal(store: Path) -> None:
    assert rows(store, "y > 0") == [1, 2]
    assert rows(store, "not y > 0") == [0, 3, 4, 5]
    assert rows(store, "y != 0.5") == [0, 2, 3, 4, 5]  # as in Python: None != 0.5
    assert rows(store, "model not in ['rf']") == [1, 2, 4, 5]
    assert rows(store, "flag") == [0, 4]
    assert rows(store, "not flag") == [1, 2, 3, 5]


COLUMNS = {
    "y": ["0.5", "1", "None"],
    "f1": ["0.5", "0.8", "None"],
    "n": ["3", "1", "None"],
    "model": ["'rf'", "'lr'", "None"],
    "flag": ["True", "False", "None"],
}
comparison = st.builds(
    lambda column, op, pick: f"{column} {op} {COLUMNS[column][pick]}",
    st.sampled_from(sorted(COLUMNS)),
    st.sampled_from(["==", "!=", "<", ">="]),
    st.integers(0, 2),
).map(lambda c: c.replace("< None", "== None").replace(">= None", "!= None"))
atoms = comparison | st.sampled_from(["flag", "f1 * 2 > y", "model in ['rf', None]"])
conditions = st.recursive(
    atoms,
    lambda inner: (
        st.builds(
            lambda a, op, b: f"({a}) {op} ({b})",
            inner,
            st.sampled_from(["and", "or", "&", "|"]),
            inner,
        )
        | inner.map(lambda a: f"not ({a})")
        | inner.map(lambda a: f"~({a})")
    ),
    max_leaves=4,
)


@settings(max_examples=60, deadline=None)
@given(expr=conditions)
def test_a_filter_and_its_negation_split_the_runs(store: Path, expr: str) -> None:
    every = set(collect(store)["id"])
    kept, negated = ids(store, expr), ids(store, f"not ({expr})")
    assert kept.isdisjoint(negated) and kept | negated == every, (expr, kept, negated)
    assert ids(store, f"~({expr})") == negated


def test_gate_rules_test_for_none_with_is(store: Path) -> None:
    scraps = {"shadow": {"champion": None, "n": 1}}
    assert rules.evaluate("shadow.champion is None and shadow.n is not None", scraps) is True
    assert rules.evaluate("shadow.champion == None", scraps) is True
    assert rules.evaluate("not shadow.n is None", scraps) is True
    with pytest.raises(rules.RuleError, match="`is` only tests for None"):
        rules.compile_rule("shadow.n is 1")
    with pytest.raises(rules.RuleError, match="`is not` only tests for None"):
        rules.compile_rule("shadow.n is not shadow.champion")
    for op in ("**", "//", "%", "@", "<<", "^", "&", "|"):
        with pytest.raises(rules.RuleError, match=re.escape(f"operator '{op}' is not allowed")):
            rules.compile_rule(f"shadow.n {op} 2 == 1")
    with pytest.raises(rules.RuleError, match="operator '~' is not allowed"):
        rules.compile_rule("~shadow.n == 1")


MISMATCHES = [
    ('f1 > "a"', "cannot compare the number column 'scraps.f1' with the text 'a' (>); "
     "compare a number column with a number, e.g. scraps.f1 > 0.5"),
    ("name > 1", "cannot compare the text column 'name' with the number 1 (>); "
     "compare a text column with a text (in quotes), e.g. name > 'rf'"),
    ("started > 1", "the date column 'started' with the number 1"),
    ("started <= 'soon'", "compare a date column with a date (in quotes), e.g. started <= '20"),
    ("1 < model", "the number 1 with the text column 'params.model' (<)"),
    ("flag > 'a'", "the True/False column 'scraps.flag' with the text 'a'"),
    ("f1 > model", "the number column 'scraps.f1' with the text column 'params.model'"),
    ("'a' > 1", "cannot compare the text 'a' with the number 1 (>)"),
    ("f1 > 0.5 & model == 'lr'", "add parentheses"),
    ("f1 > 0.5 | model == 'lr'", "`|` joins conditions and binds tighter than comparisons"),
    ("~model == 'rf'", "e.g. ~(model == 'rf'), or use `not`: \"not model == 'rf'\"."),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "message"), MISMATCHES)
def test_type_mismatches_say_what_and_how(store: Path, expr: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        collect(store, where=expr)
    assert message in str(e.value)
    assert "\n" not in str(e.value) and "ufunc" not in str(e.value)


def test_the_suggested_comparisons_work(store: Path) -> None:
    assert rows(store, "started > '2026-01-01'") == [0, 1, 2, 3, 4, 5]
    assert rows(store, "name > 'a'") == [1]
    assert rows(store, "flag == True") == [0, 4]


def test_precedence_hint_rewrites_the_filter(store: Path) -> None:
    with pytest.raises(UsageError) as e:
        collect(store, where="f1 > 0.5 & model == 'a&b'")
    assert "(f1 > 0.5) & (model == 'rf')" in str(e.value)
    assert "use `and`: \"f1 > 0.5 and model == 'a&b'\"" in str(e.value)
    # what the hint says works
    assert rows(store, "f1 > 0.5 and model == 'rf'") == rows(store, "(f1 > 0.5) & (model == 'rf')")


@pytest.mark.parametrize("command", ["collect", "report"])
@pytest.mark.parametrize("expr", ['f1 > "a"', "started > 1", "f1 > 0.5 & model == 'lr'"])
def test_mismatches_on_the_command_line(
    store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    expr: str,
) -> None:
    err = refused_where(command, store, expr, tmp_path, capsys, monkeypatch)
    (line,) = err.strip().splitlines()  # one line, no traceback
    assert line.startswith(f"mlops-nb: error: --where {expr!r}: ")
    assert "Traceback" not in err and "TypeError" not in line and "ufunc" not in line
