"""Stratified train / validation / test splits that keep class ratios exactly where possible.

The lecture's example: 200 entries, 40 positive, split 75/15/10 must give (120 + 30), (24 + 6),
(16 + 4) — a random split gave (131 + 19), (19 + 11), (10 + 10). Each class (or, for a continuous
target, each quantile bin) is divided on its own with largest-remainder rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd


class Split(NamedTuple):
    """The three parts of a data set."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame

    def sizes(self, target: str | None = None) -> pd.DataFrame:
        """Rows per part (and per class of ``target`` when given)."""
        parts = {"train": self.train, "validation": self.validation, "test": self.test}
        if target is None:
            return pd.DataFrame({"rows": {k: len(v) for k, v in parts.items()}})
        return (
            pd.DataFrame({k: v[target].value_counts() for k, v in parts.items()})
            .fillna(0)
            .astype(int)
            .T
        )


def allocate(n: int, fractions: Sequence[float]) -> list[int]:
    """Split ``n`` items into parts proportional to ``fractions`` (largest remainder, sums to n)."""
    fr = np.asarray(fractions, dtype=float)
    if (fr < 0).any() or fr.sum() <= 0:
        raise ValueError(
            f"fractions must be non-negative with a positive sum, got {list(fractions)}"
        )
    exact = n * fr / fr.sum()
    counts = np.floor(exact + 1e-9).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    for i in order[: n - counts.sum()]:
        counts[i] += 1
    return [int(c) for c in counts]


def strata(y: pd.Series, *, bins: int | None = None, max_classes: int = 20) -> pd.Series:
    """The stratum of each row: the class itself, or a quantile bin for a continuous target.

    A numeric target with more than ``max_classes`` distinct values (or any ``bins`` given) is cut
    into ``bins`` (default 10) equal-frequency bins, preserving its distribution across parts.
    """
    continuous = (
        pd.api.types.is_numeric_dtype(y)
        and not pd.api.types.is_bool_dtype(y)
        and (bins is not None or y.nunique() > max_classes)
    )
    if not continuous:
        return y.astype("string").fillna("<NA>")
    codes = pd.qcut(y.rank(method="first"), q=bins or 10, labels=False, duplicates="drop")
    return codes.astype("string").fillna("<NA>")  # a missing target is a stratum of its own


def stratified_split(
    df: pd.DataFrame,
    target: str,
    *,
    sizes: Sequence[float] = (0.75, 0.15, 0.10),
    seed: int = 0,
    bins: int | None = None,
) -> Split:
    """Split ``df`` into train / validation / test, stratified on ``target``.

    Every stratum is shuffled (seeded) and divided in the proportions ``sizes`` with
    largest-remainder rounding, so class ratios are identical in all parts when the arithmetic
    allows. Continuous targets are stratified on quantile bins (see ``strata``).
    """
    if len(sizes) != 3:
        raise ValueError(f"sizes must give three fractions (train, validation, test), got {sizes}")
    if target not in df.columns:
        raise KeyError(
            f"target column {target!r} not found; columns: {', '.join(map(str, df.columns))}"
        )
    rng = np.random.default_rng(seed)
    groups = strata(df[target], bins=bins)
    keys = sorted(groups.unique())
    members = [np.flatnonzero((groups == k).to_numpy()) for k in keys]
    counts = _controlled_round([len(m) for m in members], sizes)
    parts: list[list[int]] = [[], [], []]
    for idx, row in zip(members, counts, strict=True):
        rng.shuffle(idx)
        start = 0
        for part, count in zip(parts, row, strict=True):
            part.extend(idx[start : start + count].tolist())
            start += count
    frames = [df.iloc[sorted(p)] for p in parts]
    return Split(frames[0], frames[1], frames[2])


def _controlled_round(stratum_sizes: Sequence[int], fractions: Sequence[float]) -> list[list[int]]:
    """Counts per (stratum, part): each row sums to its stratum, each column to its overall share.

    Floors first; the leftover units go to the cells with the largest remainders, within both
    the row's and the column's leftover (a greedy pass, then any cell that still fits).
    """
    fr = np.asarray(fractions, dtype=float) / float(np.sum(fractions))
    exact = np.outer(np.asarray(stratum_sizes, dtype=float), fr)
    cells = np.floor(exact + 1e-9).astype(int)
    row_left = np.asarray(stratum_sizes) - cells.sum(axis=1)
    col_left = np.asarray(allocate(int(np.sum(stratum_sizes)), fractions)) - cells.sum(axis=0)
    order = np.argsort(-(exact - cells), axis=None, kind="stable")
    for flat in order:
        r, c = divmod(int(flat), len(fr))
        if row_left[r] > 0 and col_left[c] > 0:
            cells[r, c] += 1
            row_left[r] -= 1
            col_left[c] -= 1
    for r2 in np.flatnonzero(row_left > 0):
        for c2 in np.flatnonzero(col_left > 0):
            take = min(row_left[r2], col_left[c2])
            cells[r2, c2] += take
            row_left[r2] -= take
            col_left[c2] -= take
    return [[int(x) for x in row] for row in cells]
