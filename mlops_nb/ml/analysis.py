"""Error analysis: per-sample loss, rows sorted by loss, error rates per slice, tag tables.

"When you sort your dataset descending by loss you are guaranteed to find something unexpected,
strange and helpful" (A. Karpathy). Slicing the errors by tags (noise, gap, bias, wrong
sampling...) may reveal labelling problems or rare sub-classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlops_nb.ml.rare_events import issue_tags

TAG_FEATURES = ("noise_level", "max_gap", "bias", "sampling_jitter")

EPS = 1e-12


def per_sample_loss(y_true: Any, y_score: Any, *, positive: Any = 1) -> np.ndarray:
    """Binary cross-entropy (log loss) of each sample; ``y_score`` = P(positive)."""
    t = (np.asarray(y_true) == positive).astype(float)
    p = np.clip(np.asarray(y_score, dtype=float), EPS, 1 - EPS)
    return np.asarray(-(t * np.log(p) + (1 - t) * np.log(1 - p)))


def errors_by_loss(
    df: pd.DataFrame,
    y_true: Any,
    y_score: Any,
    *,
    threshold: float = 0.5,
    positive: Any = 1,
    top_k: int | None = None,
) -> pd.DataFrame:
    """``df`` with ``actual``, ``score``, ``predicted``, ``loss`` and ``error`` columns, sorted by
    loss, highest first (``top_k`` rows when given)."""
    out = df.copy()
    out["actual"] = (np.asarray(y_true) == positive).astype(int)
    out["score"] = np.asarray(y_score, dtype=float)
    out["predicted"] = (out["score"] >= threshold).astype(int)
    out["loss"] = per_sample_loss(out["actual"], out["score"])
    out["error"] = out["actual"] != out["predicted"]
    out = out.sort_values("loss", ascending=False, kind="stable")
    return out.head(top_k) if top_k is not None else out


def slice_table(
    scored: pd.DataFrame,
    slices: pd.DataFrame | Mapping[str, Any] | Sequence[str],
) -> pd.DataFrame:
    """Error rates per slice of ``scored`` (the output of ``errors_by_loss``).

    ``slices`` is a DataFrame of boolean tags aligned with ``scored`` (one slice per tag, plus
    ``(no tag)``), or column names of ``scored`` (one slice per value). Columns: rows,
    positives, errors, error_rate, false_negatives, false_positives, recall, mean_loss.
    """
    masks: dict[str, pd.Series] = {}
    if isinstance(slices, (pd.DataFrame, Mapping)):
        tags = pd.DataFrame(slices).reindex(scored.index).fillna(False).astype(bool)
        for name in tags.columns:
            masks[str(name)] = tags[name]
        masks["(no tag)"] = ~tags.any(axis=1)
    else:
        for col in slices:
            for value in sorted(scored[col].dropna().unique(), key=str):
                masks[f"{col}={value}"] = scored[col] == value
    rows = {}
    for name, mask in masks.items():
        part = scored[mask]
        pos = int(part["actual"].sum())
        fn = int(((part["actual"] == 1) & (part["predicted"] == 0)).sum())
        fp = int(((part["actual"] == 0) & (part["predicted"] == 1)).sum())
        rows[name] = {
            "rows": len(part),
            "positives": pos,
            "errors": fn + fp,
            "error_rate": (fn + fp) / len(part) if len(part) else np.nan,
            "false_negatives": fn,
            "false_positives": fp,
            "recall": (pos - fn) / pos if pos else np.nan,
            "mean_loss": float(part["loss"].mean()) if len(part) else np.nan,
        }
    return pd.DataFrame(rows).T.rename_axis("slice")


def tag_table(
    tags: pd.DataFrame, rows: pd.Index | Sequence[Any], *, label: pd.Series | None = None
) -> pd.DataFrame:
    """The lecture's table: one line per sample (e.g. the top errors), an ``x`` per tag it has.

    ``label`` (e.g. the signal id) names the lines; otherwise the index does.
    """
    part = tags.loc[list(rows)].astype(bool)
    table = part.apply(lambda col: col.map({True: "x", False: ""}))
    if label is not None:
        table.insert(0, str(label.name or "sample"), label.loc[list(rows)].to_numpy())
        table = table.reset_index(drop=True)
        table.index = table.index + 1
    return table


def default_slices(df: pd.DataFrame, categorical: Sequence[str]) -> pd.DataFrame | list[str]:
    """How to slice errors: the rare-event issue tags when ``df`` has the signal features,
    else one slice per value of each categorical column."""
    if set(TAG_FEATURES) <= set(df.columns):
        return issue_tags(df)
    return list(categorical)
