"""Data and prediction drift between a reference batch (training data) and a current batch.

Per feature: a two-sample test — Kolmogorov–Smirnov for numbers, chi-square for categories — and
the population stability index (PSI). A feature has *drifted* when both say so:

* its p-value is below ``alpha / n_features`` (Bonferroni: with ``alpha = 0.05`` a fresh sample of
  the reference distribution raises no alarm in at least 95 % of batches), **and**
* its PSI is at least ``psi_threshold`` (0.1; the usual reading: < 0.1 stable, 0.1–0.25 moderate,
  > 0.25 major shift), so that huge batches do not alarm on negligible shifts.

The batch is flagged (``drift_detected``) when a feature drifted, the prediction distribution
drifted (same rule on the model's scores), the missing-value rate rose by more than
``max_missing_increase`` (0.02) or the malformed-value rate by more than
``max_malformed_increase`` (0.005).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlops_nb.ml.schema import Schema, malformed_rate

_EPS = 1e-4


@dataclass(frozen=True)
class DriftThresholds:
    """The documented alarm thresholds (see the module docstring)."""

    alpha: float = 0.05
    psi_threshold: float = 0.1
    max_missing_increase: float = 0.02
    max_malformed_increase: float = 0.005
    max_categories: int = 20


@dataclass(frozen=True)
class DriftReport:
    """Per-feature table plus the batch-level numbers and the alarm flag."""

    features: pd.DataFrame
    missing_rate_change: float
    malformed_rate_change: float
    prediction_drift: float  # PSI of the scores (nan without scores)
    prediction_p_value: float
    prediction_drifted: bool
    drift_detected: bool
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)

    @property
    def n_drifted_features(self) -> int:
        return int(self.features["drifted"].sum()) if len(self.features) else 0

    @property
    def drifted_features(self) -> list[str]:
        return [str(x) for x in self.features.index[self.features["drifted"]]]

    def summary(self) -> dict[str, Any]:
        """Plain Python scalars, safe to glue."""
        return {
            "drift_detected": bool(self.drift_detected),
            "n_drifted_features": self.n_drifted_features,
            "missing_rate_change": float(self.missing_rate_change),
            "malformed_rate_change": float(self.malformed_rate_change),
            "prediction_drift": float(self.prediction_drift),
            "prediction_drifted": bool(self.prediction_drifted),
        }


def psi(reference: Any, current: Any, *, bins: int = 10) -> float:
    """Population stability index of a numeric feature, on the reference's quantile bins.

    Missing values are ignored; returns nan when either side has no values.
    """
    ref = (
        pd.to_numeric(pd.Series(np.asarray(reference).ravel()), errors="coerce").dropna().to_numpy()
    )
    cur = pd.to_numeric(pd.Series(np.asarray(current).ravel()), errors="coerce").dropna().to_numpy()
    if len(ref) == 0 or len(cur) == 0:
        return math.nan
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1))[1:-1])
    r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
    c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    return _psi_counts(r, c)


def _psi_counts(r: np.ndarray, c: np.ndarray) -> float:
    rp = np.clip(r / r.sum(), _EPS, None)
    cp = np.clip(c / c.sum(), _EPS, None)
    return float(np.sum((cp - rp) * np.log(cp / rp)))


def categorical_psi(reference: Any, current: Any) -> float:
    """PSI over category frequencies (categories of either side; missing values ignored)."""
    ref, cur = pd.Series(reference).dropna().astype(str), pd.Series(current).dropna().astype(str)
    if ref.empty or cur.empty:
        return math.nan
    cats = sorted(set(ref) | set(cur))
    r = ref.value_counts().reindex(cats, fill_value=0).to_numpy()
    c = cur.value_counts().reindex(cats, fill_value=0).to_numpy()
    return _psi_counts(r, c)


def _numeric_test(ref: pd.Series, cur: pd.Series) -> tuple[float, float]:
    from scipy.stats import ks_2samp

    a = pd.to_numeric(ref, errors="coerce").dropna().to_numpy(dtype=float)
    b = pd.to_numeric(cur, errors="coerce").dropna().to_numpy(dtype=float)
    if len(a) == 0 or len(b) == 0:
        return math.nan, math.nan
    # The exact method is slow and warns on large samples; the asymptotic one is accurate there.
    res = ks_2samp(a, b, method="exact" if len(a) * len(b) <= 10_000 else "asymp")
    return float(res.statistic), float(res.pvalue)


def _categorical_test(ref: pd.Series, cur: pd.Series) -> tuple[float, float]:
    from scipy.stats import chi2_contingency

    a, b = ref.dropna().astype(str), cur.dropna().astype(str)
    cats = sorted(set(a) | set(b))
    if len(cats) < 2 or a.empty or b.empty:
        return 0.0, 1.0
    table = np.vstack(
        [
            a.value_counts().reindex(cats, fill_value=0).to_numpy(),
            b.value_counts().reindex(cats, fill_value=0).to_numpy(),
        ]
    )
    res = chi2_contingency(table)
    return float(res.statistic), float(res.pvalue)


def feature_kinds(
    reference: pd.DataFrame, *, schema: Schema | None = None, max_categories: int = 20
) -> dict[str, str]:
    """``numeric`` or ``categorical`` per column worth testing (free-text identifiers left out)."""
    kinds: dict[str, str] = {}
    for name in reference.columns:
        if schema is not None and name in schema.names:
            k = schema.column(str(name)).kind
            kind = {
                "integer": "numeric",
                "float": "numeric",
                "categorical": "categorical",
                "boolean": "categorical",
            }.get(k)
        elif pd.api.types.is_numeric_dtype(reference[name]):
            kind = "numeric"
        elif reference[name].nunique() <= max_categories:
            kind = "categorical"
        else:
            kind = None
        if kind:
            kinds[str(name)] = kind
    return kinds


def feature_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    schema: Schema | None = None,
    thresholds: DriftThresholds | None = None,
) -> pd.DataFrame:
    """One row per feature: kind, test, statistic, p_value, psi, drifted, missing rates."""
    th = thresholds or DriftThresholds()
    kinds = feature_kinds(reference, schema=schema, max_categories=th.max_categories)
    names = [c for c in (columns if columns is not None else kinds) if c in current.columns]
    rows = {}
    for name in names:
        kind = kinds.get(name, "numeric")
        ref, cur = reference[name], current[name]
        if kind == "numeric":
            stat, p = _numeric_test(ref, cur)
            value = psi(ref, cur)
        else:
            stat, p = _categorical_test(ref, cur)
            value = categorical_psi(ref, cur)
        rows[name] = {
            "kind": kind,
            "test": "ks" if kind == "numeric" else "chi2",
            "statistic": stat,
            "p_value": p,
            "psi": value,
            "missing_reference": float(ref.isna().mean()),
            "missing_current": float(cur.isna().mean()),
        }
    table = pd.DataFrame(rows).T
    if table.empty:
        return pd.DataFrame(columns=["kind", "test", "statistic", "p_value", "psi", "drifted"])
    for col in ("statistic", "p_value", "psi", "missing_reference", "missing_current"):
        table[col] = table[col].astype(float)
    alpha = th.alpha / len(table)
    table["drifted"] = (table["p_value"] < alpha) & (table["psi"] >= th.psi_threshold)
    return table.rename_axis("feature").sort_values("psi", ascending=False)


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    schema: Schema | None = None,
    reference_scores: Any | None = None,
    current_scores: Any | None = None,
    thresholds: DriftThresholds | None = None,
) -> DriftReport:
    """Compare two batches: feature drift, missing/malformed rates, prediction drift, alarm flag.

    ``columns`` defaults to every numeric or categorical column (pass the model's features to
    leave out the target); ``schema`` also enables the malformed-value rate.
    """
    th = thresholds or DriftThresholds()
    table = feature_drift(reference, current, columns=columns, schema=schema, thresholds=th)
    cols = list(table.index)
    missing_change = (
        float(current[cols].isna().mean().mean() - reference[cols].isna().mean().mean())
        if cols
        else 0.0
    )
    malformed_change = (
        malformed_rate(current, schema) - malformed_rate(reference, schema)
        if schema is not None
        else 0.0
    )
    pred_psi = pred_p = math.nan
    pred_drifted = False
    if reference_scores is not None and current_scores is not None:
        pred_psi = psi(reference_scores, current_scores)
        _, pred_p = _numeric_test(
            pd.Series(np.asarray(reference_scores)), pd.Series(np.asarray(current_scores))
        )
        pred_drifted = bool(pred_p < th.alpha and pred_psi >= th.psi_threshold)
    detected = bool(
        table["drifted"].any()
        or pred_drifted
        or missing_change > th.max_missing_increase
        or malformed_change > th.max_malformed_increase
    )
    return DriftReport(
        table, missing_change, malformed_change, pred_psi, pred_p, pred_drifted, detected, th
    )
