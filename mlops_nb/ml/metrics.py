"""Binary classification metrics that say "undefined" instead of crashing or reporting a silent 0.

The lecture's rare-event example: predicting "healthy" for all 3,130 healthy and 112 faulty signals
scores 96.5 % accuracy with recall 0, and its precision is 0/0 — undefined, not 0. Here an
undefined ratio is ``nan`` and ``Metrics.notes`` says why. F1 is 2·TP / (2·TP + FP + FN), which is
defined (0) for that baseline and undefined only when there is nothing positive at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "balanced_accuracy", "pr_auc")


@dataclass(frozen=True)
class Metrics:
    """Confusion counts and metrics of binary predictions; ``nan`` = undefined (see ``notes``)."""

    tp: int
    fp: int
    fn: int
    tn: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    balanced_accuracy: float
    pr_auc: float
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, float]:
        """The metrics as plain Python floats (safe to glue)."""
        return {name: float(getattr(self, name)) for name in METRIC_NAMES}

    def confusion(self) -> pd.DataFrame:
        """The confusion matrix laid out as in the lecture: rows = model, columns = truth."""
        return pd.DataFrame(
            [[self.tp, self.fp], [self.fn, self.tn]],
            index=pd.Index(["predicted positive", "predicted negative"], name="model"),
            columns=pd.Index(["actual positive", "actual negative"], name="ground truth"),
        )


def _ratio(num: float, den: float, what: str, why: str, notes: list[str]) -> float:
    if den == 0:
        notes.append(f"{what} is undefined (0/0): {why}")
        return math.nan
    return num / den


def _binary(values: Any, positive: Any) -> np.ndarray:
    arr = np.asarray(values)
    return np.asarray(arr == positive, dtype=int)


def confusion_counts(y_true: Any, y_pred: Any, *, positive: Any = 1) -> tuple[int, int, int, int]:
    """(TP, FP, FN, TN) of predictions, with ``positive`` the label of interest."""
    t, p = _binary(y_true, positive), _binary(y_pred, positive)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length ({t.shape[0]} vs {p.shape[0]})")
    tp = int(((t == 1) & (p == 1)).sum())
    fp = int(((t == 0) & (p == 1)).sum())
    fn = int(((t == 1) & (p == 0)).sum())
    return tp, fp, fn, int(len(t) - tp - fp - fn)


def classification_metrics(
    y_true: Any, y_pred: Any, y_score: Any | None = None, *, positive: Any = 1
) -> Metrics:
    """Accuracy, precision, recall, F1, balanced accuracy and PR-AUC (from ``y_score``, if given).

    Labels other than ``positive`` count as negative (one-vs-rest for more than two classes).
    """
    tp, fp, fn, tn = confusion_counts(y_true, y_pred, positive=positive)
    notes: list[str] = []
    n = tp + fp + fn + tn
    accuracy = _ratio(tp + tn, n, "accuracy", "there are no samples", notes)
    precision = _ratio(tp, tp + fp, "precision", "the model predicted no positives", notes)
    recall = _ratio(tp, tp + fn, "recall", "there are no actual positives", notes)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn, "F1", "no positives, actual or predicted", notes)
    specificity = (tn / (tn + fp)) if tn + fp else math.nan
    if math.isnan(recall) or math.isnan(specificity):
        notes.append("balanced accuracy is undefined: one class is absent from the truth")
        balanced = math.nan
    else:
        balanced = (recall + specificity) / 2
    pr_auc = _pr_auc(y_true, y_score, positive, notes)
    return Metrics(tp, fp, fn, tn, accuracy, precision, recall, f1, balanced, pr_auc, tuple(notes))


def _pr_auc(y_true: Any, y_score: Any | None, positive: Any, notes: list[str]) -> float:
    if y_score is None:
        return math.nan
    from sklearn.metrics import average_precision_score

    t = _binary(y_true, positive)
    if t.sum() == 0:
        notes.append("PR-AUC is undefined: there are no actual positives")
        return math.nan
    return float(average_precision_score(t, np.asarray(y_score, dtype=float)))


def baselines(y_true: Any, *, positive: Any = 1) -> dict[str, Metrics]:
    """Metrics of the trivial predictors: ``always_negative`` (the lecture's ``return False``) and
    ``always_positive``. A model is only useful if it beats them on the metric that matters."""
    t = _binary(y_true, positive)
    return {
        "always_negative": classification_metrics(t, np.zeros_like(t), np.zeros(len(t))),
        "always_positive": classification_metrics(t, np.ones_like(t), np.ones(len(t))),
    }


def comparison_table(
    model: Metrics, y_true: Any, *, positive: Any = 1, name: str = "model"
) -> pd.DataFrame:
    """One row per predictor (the model, then the baselines), one column per metric."""
    rows = {name: model, **baselines(y_true, positive=positive)}
    return pd.DataFrame(
        {
            k: {**m.as_dict(), "tp": m.tp, "fp": m.fp, "fn": m.fn, "tn": m.tn}
            for k, m in rows.items()
        }
    ).T


def precision_recall_table(y_true: Any, y_score: Any, *, positive: Any = 1) -> pd.DataFrame:
    """Precision, recall and F1 at every distinct score threshold (predict positive if ≥)."""
    from sklearn.metrics import precision_recall_curve

    t = _binary(y_true, positive)
    precision, recall, thresholds = precision_recall_curve(t, np.asarray(y_score, dtype=float))
    p, r = precision[:-1], recall[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    return pd.DataFrame({"threshold": thresholds, "precision": p, "recall": r, "f1": f1})


class Threshold(NamedTuple):
    """A decision threshold and the validation metrics it gives."""

    threshold: float
    precision: float
    recall: float
    f1: float


def choose_threshold(
    y_true: Any,
    y_score: Any,
    *,
    objective: Literal["f1", "recall"] = "f1",
    target_recall: float = 0.9,
    positive: Any = 1,
) -> Threshold:
    """The threshold with the best F1, or the highest one reaching ``target_recall``.

    Choose it on validation data, never on the test split. Predict positive when score ≥ threshold.
    """
    table = precision_recall_table(y_true, y_score, positive=positive)
    if table.empty:
        raise ValueError("cannot choose a threshold: no scores")
    if objective == "f1":
        row = table.loc[table["f1"].idxmax()]
    elif objective == "recall":
        ok = table[table["recall"] >= target_recall]
        row = ok.iloc[-1] if len(ok) else table.iloc[0]
    else:
        raise ValueError(f"objective must be 'f1' or 'recall', got {objective!r}")
    return Threshold(
        float(row["threshold"]), float(row["precision"]), float(row["recall"]), float(row["f1"])
    )


def predict_at(y_score: Sequence[float] | np.ndarray, threshold: float) -> np.ndarray:
    """0/1 predictions: 1 where the score reaches the threshold."""
    return (np.asarray(y_score, dtype=float) >= threshold).astype(int)
