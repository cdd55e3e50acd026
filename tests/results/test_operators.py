"""The two safe evaluators share one operator table (``results.operators``) and keep their own
grammar and bounds: a filter has ``// % **`` (bounded), a gate rule does not; neither takes a
literal outside numbers, strings, booleans and None."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb import collect
from mlops_nb.errors import UsageError
from mlops_nb.pipeline import rules
from mlops_nb.results import operators
from tests.results.factory import make_run

SCRAPS = {"step": {"n": 7, "name": "rf"}}


@pytest.fixture
def store(runs_dir: Path) -> Path:
    for n in (4, 7):
        make_run(runs_dir, params={"n": n, "name": "rf"})
    return runs_dir


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_both_compare_with_the_same_operators(store: Path, op: str) -> None:
    expected = eval(f"7 {op} 5")  # the two literals: Python's own answer
    assert rules.evaluate(f"step.n {op} 5", SCRAPS) is expected
    assert (len(collect(store, where=f"n {op} 5")) == 1) is (eval(f"7 {op} 5") != eval(f"4 {op} 5"))


@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_both_do_arithmetic_on_numbers(store: Path, op: str) -> None:
    assert rules.evaluate(f"step.n {op} 2 == {eval(f'7 {op} 2')}", SCRAPS) is True
    assert collect(store, where=f"n {op} 2 == {eval(f'7 {op} 2')}")["params.n"].tolist() == [7]
    with pytest.raises(rules.RuleError, match="arithmetic needs numbers"):
        rules.evaluate(f"step.name {op} 2 == 1", SCRAPS)
    with pytest.raises(UsageError, match="numbers only"):
        collect(store, where=f"name {op} 2 == 1")


@pytest.mark.parametrize("op", ["//", "%", "**"])
def test_only_the_filter_has_floor_division_modulo_and_power(store: Path, op: str) -> None:
    assert collect(store, where=f"n {op} 2 == {eval(f'7 {op} 2')}")["params.n"].tolist() == [7]
    with pytest.raises(rules.RuleError, match="is not allowed"):
        rules.evaluate(f"step.n {op} 2 == 1", SCRAPS)


@pytest.mark.parametrize("literal", ["1j", "b'x'", "..."])
def test_neither_takes_other_literals(store: Path, literal: str) -> None:
    with pytest.raises(rules.RuleError, match="not allowed"):
        rules.evaluate(f"step.n == {literal}", SCRAPS)
    with pytest.raises(UsageError, match="not allowed in a filter"):
        collect(store, where=f"n == {literal}")


def test_the_tables() -> None:
    assert set(operators.ARITHMETIC) < set(operators.FILTER_ARITHMETIC)
    assert not set(operators.COMPARE) & set(operators.MEMBERSHIP)
