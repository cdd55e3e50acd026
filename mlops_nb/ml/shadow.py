"""Shadow mode and batch scoring: two models on the same rows, and the cost of scoring.

In shadow mode the challenger scores the production batch next to the champion, whose answers
are the ones used; nothing the challenger says reaches a user. What is compared: how often the
two agree, which way the predictions flip, how their scores correlate, and, when labels exist,
each metric's difference with a paired bootstrap confidence interval.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlops_nb.ml.analysis import per_sample_loss

DELTA_METRICS = ("f1", "precision", "recall", "accuracy")


def timed_scores(model: Any, X: pd.DataFrame, *, positive: Any = 1) -> tuple[np.ndarray, float]:
    """(P(positive) per row, seconds per row) of one ``predict_proba`` call over ``X``."""
    from mlops_nb.ml.models import scores

    t0 = time.perf_counter()
    s = scores(model, X, positive=positive)
    return s, (time.perf_counter() - t0) / max(1, len(X))


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB (``getrusage``: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _rates(t: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics of each bootstrap sample; ``t``, ``p`` are (samples, rows) 0/1 arrays."""
    tp = (t & p).sum(axis=-1).astype(float)
    fp = (~t & p).sum(axis=-1).astype(float)
    fn = (t & ~p).sum(axis=-1).astype(float)
    n = t.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "f1": 2 * tp / (2 * tp + fp + fn),
            "precision": tp / (tp + fp),
            "recall": tp / (tp + fn),
            "accuracy": (n - fp - fn) / n,
        }


def metric_deltas(
    y_true: Any,
    champion_pred: Any,
    challenger_pred: Any,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Per metric: champion, challenger, delta (challenger - champion) and its CI bounds.

    Paired percentile bootstrap (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993,
    ch. 13): the same resampled rows score both models, so the interval is that of the
    difference. A metric undefined in a resample (0/0) is left out of that resample's quantiles.
    Index: ``f1``, ``precision``, ``recall``, ``accuracy``.
    """
    t = np.asarray(y_true).astype(bool)
    a = np.asarray(champion_pred).astype(bool)
    b = np.asarray(challenger_pred).astype(bool)
    idx = np.random.default_rng(seed).integers(0, len(t), size=(n_boot, len(t)))
    base_a, base_b = _rates(t[None, :], a[None, :]), _rates(t[None, :], b[None, :])
    boot_a, boot_b = _rates(t[idx], a[idx]), _rates(t[idx], b[idx])
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    rows = {}
    for m in DELTA_METRICS:
        d = boot_b[m] - boot_a[m]
        d = d[~np.isnan(d)]
        lo, hi = np.quantile(d, [lo_q, hi_q]) if len(d) else (math.nan, math.nan)
        rows[m] = {
            "champion": float(base_a[m][0]),
            "challenger": float(base_b[m][0]),
            "delta": float(base_b[m][0] - base_a[m][0]),
            "delta_low": float(lo),
            "delta_high": float(hi),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


@dataclass(frozen=True)
class Agreement:
    """How two models' predictions and scores on the same rows relate."""

    n: int
    agreement: float  # share of rows with the same prediction
    flip_rate: float  # 1 - agreement
    flips_to_positive: int  # champion negative, challenger positive
    flips_to_negative: int
    score_correlation: float  # Pearson correlation of the two score vectors (nan if constant)

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def agreement(
    champion_pred: Any, challenger_pred: Any, champion_scores: Any, challenger_scores: Any
) -> Agreement:
    """Agreement, flips in each direction and score correlation (Pearson) of two models."""
    a = np.asarray(champion_pred).astype(bool)
    b = np.asarray(challenger_pred).astype(bool)
    sa = np.asarray(champion_scores, dtype=float)
    sb = np.asarray(challenger_scores, dtype=float)
    same = float((a == b).mean()) if len(a) else math.nan
    constant = len(sa) < 2 or np.std(sa) == 0 or np.std(sb) == 0
    corr = math.nan if constant else float(np.corrcoef(sa, sb)[0, 1])
    return Agreement(len(a), same, 1 - same, int((~a & b).sum()), int((a & ~b).sum()), corr)


def disagreements(
    df: pd.DataFrame,
    champion_pred: Any,
    challenger_pred: Any,
    champion_scores: Any,
    challenger_scores: Any,
    y_true: Any | None = None,
) -> pd.DataFrame:
    """The rows where the two predictions differ, with both scores and predictions, sorted by
    the challenger's log loss (highest first) when labels exist, else by the score gap."""
    out = df.copy()
    out["champion_score"] = np.asarray(champion_scores, dtype=float)
    out["challenger_score"] = np.asarray(challenger_scores, dtype=float)
    out["champion_pred"] = np.asarray(champion_pred).astype(int)
    out["challenger_pred"] = np.asarray(challenger_pred).astype(int)
    if y_true is not None:
        out["actual"] = np.asarray(y_true).astype(int)
        out["challenger_loss"] = per_sample_loss(out["actual"], out["challenger_score"])
        key = "challenger_loss"
    else:
        out["score_gap"] = (out["challenger_score"] - out["champion_score"]).abs()
        key = "score_gap"
    differ = out[out["champion_pred"] != out["challenger_pred"]]
    return differ.sort_values(key, ascending=False, kind="stable")


@dataclass(frozen=True)
class Served:
    """A model ready to serve: the fitted Pipeline, its input columns, its decision threshold."""

    model: Any
    features: list[str]
    threshold: float
    source: str

    def predict(self, X: pd.DataFrame, *, positive: Any = 1) -> tuple[np.ndarray, np.ndarray]:
        """(P(positive), 0/1 predictions at the threshold) for the rows of ``X``."""
        from mlops_nb.ml.metrics import predict_at
        from mlops_nb.ml.models import scores

        s = scores(self.model, X[self.features], positive=positive)
        return s, predict_at(s, self.threshold)


def model_from(
    source: str, reference: pd.DataFrame, target: str, *, positive: Any = 1, seed: int = 0
) -> Served | None:
    """The model a template's ``champion``/``challenger``/``model_dir`` parameter names.

    ``source``: a run folder holding ``model.joblib`` and ``model.json`` (what the ``train``
    template writes; ``registry:MODEL@ALIAS`` parameters arrive as such a folder), ``fit:NAME``
    (fit model NAME on ``reference`` as ``train_default`` does: standalone runs), or ``""``
    (no such model yet: None). Raises ``FileNotFoundError`` for a folder without the two files.
    """
    import json
    from pathlib import Path

    from mlops_nb.ml.models import load_model, train_default

    if not source:
        return None
    if source.startswith("fit:"):
        t = train_default(reference, target, positive=positive, model=source[4:], seed=seed)
        return Served(t.model, t.features, t.threshold, source)
    folder = Path(source)
    for name in ("model.joblib", "model.json"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name}: no model here (expected a training run)")
    card = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    model = load_model(folder / "model.joblib")
    return Served(model, list(card["features"]), float(card["threshold"]), source)


def prediction_table(ids: Any, scores: Any, predictions: Any) -> pd.DataFrame:
    """``id``, ``score``, ``prediction`` per row: what a batch-scoring job hands on."""
    return pd.DataFrame(
        {
            "id": np.asarray(ids),
            "score": np.asarray(scores, dtype=float),
            "prediction": np.asarray(predictions).astype(int),
        }
    )
