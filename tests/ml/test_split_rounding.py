"""Stratified splits round counts so that every class and every part gets its share: the
per-(class, part) counts sum to each class's size and to each part's overall allocation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_nb.ml import split


@pytest.mark.parametrize("seed", range(4))
def test_controlled_rounding_keeps_both_margins(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(500):
        sizes = [int(x) for x in rng.integers(0, 12, size=int(rng.integers(1, 6)))]
        fractions = [float(x) for x in rng.random(int(rng.integers(2, 5))) + 0.01]
        cells = split._controlled_round(sizes, fractions)
        assert [sum(row) for row in cells] == sizes
        assert [sum(col) for col in zip(*cells, strict=True)] == split.allocate(
            sum(sizes), fractions
        )
        assert all(x >= 0 for row in cells for x in row)


def test_sizes_per_part_and_per_class() -> None:
    df = pd.DataFrame({"y": [0] * 16 + [1] * 4, "x": range(20)})
    parts = split.stratified_split(df, "y", sizes=(0.5, 0.25, 0.25), seed=0)
    assert parts.sizes()["rows"].to_dict() == {"train": 10, "validation": 5, "test": 5}
    by_class = parts.sizes("y")  # one row per part, one column per class
    assert by_class[1].to_dict() == {"train": 2, "validation": 1, "test": 1}
    assert by_class[0].to_dict() == {"train": 8, "validation": 4, "test": 4}
