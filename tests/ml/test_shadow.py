"""Shadow comparison helpers: agreement, metric deltas with bootstrap CIs, disagreements."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlops_nb.ml import shadow


def test_identical_models_agree_and_differ_by_zero() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.1
    pred = rng.random(500) < 0.12
    scores = rng.random(500)
    a = shadow.agreement(pred, pred, scores, scores)
    assert (a.agreement, a.flip_rate, a.flips_to_positive, a.flips_to_negative) == (1, 0, 0, 0)
    assert a.score_correlation == pytest.approx(1.0)
    d = shadow.metric_deltas(y, pred, pred, n_boot=200)
    assert list(d.index) == ["f1", "precision", "recall", "accuracy"]
    assert (d["delta"] == 0).all() and (d["delta_low"] == 0).all() and (d["delta_high"] == 0).all()


def test_better_challenger_has_a_positive_interval() -> None:
    rng = np.random.default_rng(1)
    y = rng.random(2000) < 0.1
    champion = np.where(rng.random(2000) < 0.4, ~y, y)  # wrong on 40 % of rows
    challenger = np.where(rng.random(2000) < 0.05, ~y, y)
    d = shadow.metric_deltas(y, champion, challenger, n_boot=300)
    assert d.loc["f1", "delta_low"] > 0.2 and d.loc["accuracy", "delta"] == pytest.approx(
        (challenger == y).mean() - (champion == y).mean()
    )
    assert d.loc["f1", "delta_low"] <= d.loc["f1", "delta"] <= d.loc["f1", "delta_high"]


def test_flips_and_constant_scores() -> None:
    a = shadow.agreement([0, 0, 1, 1], [1, 0, 0, 1], [0.5] * 4, [0.1, 0.2, 0.3, 0.4])
    assert (a.agreement, a.flips_to_positive, a.flips_to_negative) == (0.5, 1, 1)
    assert math.isnan(a.score_correlation)


def test_disagreements_sorted_by_challenger_loss() -> None:
    df = pd.DataFrame({"id": ["a", "b", "c", "d"]})
    out = shadow.disagreements(
        df, [0, 0, 1, 1], [1, 1, 1, 0], [0.2, 0.3, 0.9, 0.8], [0.6, 0.99, 0.9, 0.1], [0, 0, 1, 1]
    )
    assert list(out["id"]) == ["b", "d", "a"]  # c agrees; b has the highest challenger loss
    assert out["challenger_loss"].is_monotonic_decreasing
    unlabelled = shadow.disagreements(df, [0, 0, 1, 1], [1, 1, 1, 0], [0.2] * 4, [0.6, 0.3, 0, 0])
    assert list(unlabelled["id"]) == ["a", "d", "b"] and "actual" not in unlabelled


def test_scoring_cost() -> None:
    from mlops_nb.ml.datasets import load_dataset
    from mlops_nb.ml.models import train_default

    df = load_dataset("builtin:breast_cancer")
    trained = train_default(df, "malignant")
    s, per_row = shadow.timed_scores(trained.model, df[trained.features])
    assert s.shape == (len(df),) and 0 < per_row < 0.01
    assert shadow.peak_rss_mb() > 10
