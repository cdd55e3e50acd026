from __future__ import annotations

import math

import numpy as np
import pytest

from mlops_nb.ml import metrics as m


def _rare() -> np.ndarray:
    return np.concatenate([np.zeros(3130, dtype=int), np.ones(112, dtype=int)])


def test_lecture_always_negative_baseline() -> None:
    base = m.baselines(_rare())["always_negative"]
    assert (base.tp, base.fp, base.fn, base.tn) == (0, 0, 112, 3130)
    assert base.accuracy == pytest.approx(0.965, abs=0.001)  # "97 %" on the slide
    assert base.recall == 0.0
    assert math.isnan(base.precision)  # 0/0: undefined, not a silent 0
    assert any("precision is undefined (0/0)" in n for n in base.notes)
    assert base.f1 == 0.0  # 2TP / (2TP + FP + FN) = 0 / 112
    assert base.balanced_accuracy == 0.5


def test_always_positive_baseline() -> None:
    base = m.baselines(_rare())["always_positive"]
    assert base.recall == 1.0
    assert base.precision == pytest.approx(112 / 3242)
    assert base.f1 == pytest.approx(2 * 112 / (2 * 112 + 3130))


def test_everything_undefined_when_nothing_is_positive() -> None:
    res = m.classification_metrics([0, 0, 0], [0, 0, 0], [0.1, 0.2, 0.3])
    assert res.accuracy == 1.0
    for name in ("precision", "recall", "f1", "balanced_accuracy", "pr_auc"):
        assert math.isnan(getattr(res, name)), name
    assert len(res.notes) == 5


def test_empty_input_is_undefined_not_a_crash() -> None:
    res = m.classification_metrics([], [])
    assert math.isnan(res.accuracy)
    assert any("accuracy is undefined" in n for n in res.notes)


def test_known_values_match_scikit_learn() -> None:
    from sklearn import metrics as skm

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    score = np.clip(y * 0.3 + rng.random(300) * 0.7, 0, 1)
    pred = (score >= 0.5).astype(int)
    res = m.classification_metrics(y, pred, score)
    assert res.precision == pytest.approx(skm.precision_score(y, pred))
    assert res.recall == pytest.approx(skm.recall_score(y, pred))
    assert res.f1 == pytest.approx(skm.f1_score(y, pred))
    assert res.balanced_accuracy == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert res.pr_auc == pytest.approx(skm.average_precision_score(y, score))
    assert res.notes == ()


def test_positive_label_and_confusion_layout() -> None:
    res = m.classification_metrics(["a", "b", "b", "c"], ["b", "b", "a", "c"], positive="b")
    assert (res.tp, res.fp, res.fn, res.tn) == (1, 1, 1, 1)
    table = res.confusion()
    assert table.loc["predicted positive", "actual positive"] == 1
    assert list(table.columns) == ["actual positive", "actual negative"]


def test_as_dict_is_plain_floats() -> None:
    values = m.classification_metrics([0, 1], [0, 1], [0.2, 0.9]).as_dict()
    assert set(values) == set(m.METRIC_NAMES)
    assert all(type(v) is float for v in values.values())


def test_comparison_table_rows() -> None:
    y = _rare()
    table = m.comparison_table(m.classification_metrics(y, y), y)
    assert list(table.index) == ["model", "always_negative", "always_positive"]
    assert table.loc["model", "f1"] == 1.0


def test_threshold_for_best_f1_and_target_recall() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 0, 1])
    score = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    best = m.choose_threshold(y, score)
    assert best.threshold == 0.5
    assert best.f1 == pytest.approx(2 * 0.75 * 1.0 / 1.75)
    high = m.choose_threshold(y, score, objective="recall", target_recall=0.6)
    assert high.recall >= 0.6
    assert high.threshold == 0.6
    assert m.predict_at(score, best.threshold).sum() == 4
    with pytest.raises(ValueError, match="objective"):
        m.choose_threshold(y, score, objective="auc")  # type: ignore[arg-type]


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        m.confusion_counts([0, 1], [0])
