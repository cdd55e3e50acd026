"""Canary helpers: stable routing, the two-proportion test, the cumulative decision."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlops_nb.ml import rollout


def test_z_test_matches_the_pooled_formula() -> None:
    # p1 = .15, p2 = .075, pooled .1125: z = .075 / sqrt(.1125 * .8875 * (2 / 200))
    z, p = rollout.two_proportion_z(30, 200, 15, 200)
    assert z == pytest.approx(0.075 / math.sqrt(0.1125 * 0.8875 * 0.01))
    assert p == pytest.approx(0.00881, abs=1e-5)
    z2, p2 = rollout.two_proportion_z(30, 200, 15, 200, alternative="smaller")
    assert z2 == z and p2 == pytest.approx(1 - p)
    assert rollout.two_proportion_z(0, 50, 0, 80) == (0.0, 0.5)
    with pytest.raises(ValueError, match="both samples need rows"):
        rollout.two_proportion_z(0, 0, 1, 10)


def test_route_is_stable_proportional_and_monotone() -> None:
    keys = [f"S000-{i:05d}" for i in range(5000)]
    ten, twenty = rollout.route(keys, 0.1), rollout.route(keys, 0.2)
    assert np.array_equal(ten, rollout.route(list(reversed(keys)), 0.1)[::-1])  # order-free
    assert 0.08 < ten.mean() < 0.12 and 0.18 < twenty.mean() < 0.22
    assert not (ten & ~twenty).any()  # a larger fraction only adds rows
    assert not np.array_equal(ten, rollout.route(keys, 0.1, salt="other"))
    assert rollout.route(keys, 0.0).sum() == 0 and rollout.route(keys, 1.0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        rollout.route(keys, 1.5)


def test_one_error_in_16_rolls_back_naively_but_not_here() -> None:
    # FACTS: champion 2 errors in 100 (2 %), canary 1 in 16 (6 %): the naive rule rolls back
    assert rollout.naive_decision(1, 16, 2, 100, margin=0.02) == "rollback"
    assert rollout.decide(1, 16, 2, 100)[0] == "continue"


def _simulate(p_chal: float, p_champ: float, batches: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    n = 400 * batches
    batch = np.repeat(np.arange(batches), 400)
    canary = rng.random(n) < 0.2
    error = np.where(canary, rng.random(n) < p_chal, rng.random(n) < p_champ)
    rule = rollout.CanaryRule(alpha=0.05, min_samples=100, looks=batches)
    table = rollout.canary_table(batch, canary, error, rule)
    assert list(table.index) == list(range(batches))
    assert table["challenger_n"].is_monotonic_increasing  # cumulative
    return rollout.final_decision(table)


@pytest.mark.parametrize(
    ("p_chal", "p_champ", "expected"),
    [(0.30, 0.03, "rollback"), (0.02, 0.25, "promote"), (0.03, 0.03, "continue")],
    ids=["worse", "better", "same"],
)
def test_cumulative_decision(p_chal: float, p_champ: float, expected: str) -> None:
    assert [_simulate(p_chal, p_champ, 8, seed) for seed in range(5)] == [expected] * 5


def test_first_decision_holds_and_empty_table_continues() -> None:
    batch = [0] * 200 + [1] * 200
    canary = [True, False] * 200
    error = [True, False] * 100 + [False] * 200  # batch 0: canary always wrong, then never
    table = rollout.canary_table(batch, canary, error)
    assert list(table["decision"]) == ["rollback", "rollback"]
    assert rollout.final_decision(table.iloc[0:0]) == "continue"
