from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_nb.ml import datasets
from mlops_nb.ml.split import allocate, strata, stratified_split


def _seed_example() -> pd.DataFrame:
    return pd.DataFrame({"failure": [0] * 160 + [1] * 40, "x": np.arange(200)})


@pytest.mark.parametrize("seed", [0, 1, 7, 123])
def test_lecture_example_200_entries_40_positive(seed: int) -> None:
    parts = stratified_split(_seed_example(), "failure", seed=seed)
    counts = parts.sizes("failure")
    assert counts.loc["train"].tolist() == [120, 30]
    assert counts.loc["validation"].tolist() == [24, 6]
    assert counts.loc["test"].tolist() == [16, 4]


def test_parts_are_disjoint_and_complete() -> None:
    df = _seed_example()
    parts = stratified_split(df, "failure", seed=3)
    ids = np.concatenate([p["x"].to_numpy() for p in parts])
    assert sorted(ids) == list(range(200))


def test_seeded_and_seed_dependent() -> None:
    df = _seed_example()
    a = stratified_split(df, "failure", seed=5).test["x"].tolist()
    assert a == stratified_split(df, "failure", seed=5).test["x"].tolist()
    assert a != stratified_split(df, "failure", seed=6).test["x"].tolist()


def test_rare_events_keep_the_class_ratio() -> None:
    df = datasets.make_rare_events()
    parts = stratified_split(df, "faulty", seed=0)
    assert [len(p) for p in parts] == allocate(len(df), (0.75, 0.15, 0.10))
    for part in parts:
        assert part["faulty"].mean() == pytest.approx(112 / 3242, abs=0.004)


def test_continuous_target_is_stratified_on_quantile_bins() -> None:
    df = datasets.load_dataset("builtin:diabetes")
    assert strata(df["target"]).nunique() == 10
    parts = stratified_split(df, "target", seed=0)
    assert [len(p) for p in parts] == allocate(len(df), (0.75, 0.15, 0.10))
    medians = [p["target"].median() for p in parts]
    assert max(medians) - min(medians) < 0.1 * df["target"].std()


@pytest.mark.parametrize(
    ("n", "fractions", "expected"),
    [(200, (0.75, 0.15, 0.10), [150, 30, 20]), (7, (1, 1, 1), [3, 2, 2]), (0, (0.5, 0.5), [0, 0])],
)
def test_allocate_sums_to_n(n: int, fractions: tuple[float, ...], expected: list[int]) -> None:
    assert allocate(n, fractions) == expected


def test_errors_name_the_problem() -> None:
    with pytest.raises(KeyError, match="target column 'nope' not found"):
        stratified_split(_seed_example(), "nope")
    with pytest.raises(ValueError, match="three fractions"):
        stratified_split(_seed_example(), "failure", sizes=(0.5, 0.5))
    with pytest.raises(ValueError, match="non-negative"):
        allocate(10, (-1, 2))


def test_continuous_target_with_missing_values() -> None:
    df = pd.DataFrame({"y": list(np.arange(30.0)) + [np.nan] * 5, "x": range(35)})
    train, val, test = stratified_split(df, "y", seed=0)
    assert len(train) + len(val) + len(test) == 35
    assert set(train.index) | set(val.index) | set(test.index) == set(df.index)
