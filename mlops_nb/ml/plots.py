"""Plots for the templates (seaborn / matplotlib, imported only when a plot is drawn).

Each function draws one figure and returns its matplotlib ``Axes`` (or the figure for grids).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from mlops_nb.ml.metrics import Metrics


def _sns() -> Any:
    import matplotlib.pyplot as plt
    import seaborn as sns

    plt.rcParams["figure.dpi"] = 72  # keep embedded images small in executed notebooks
    sns.set_theme(style="whitegrid")
    return sns


def correlation_heatmap(df: pd.DataFrame, *, method: str = "pearson") -> Any:
    """Heatmap of ``DataFrame.corr`` over the numeric columns (NA excluded pairwise)."""
    sns = _sns()
    corr = df.corr(method=method, numeric_only=True)
    size = min(12.0, 2.0 + 0.45 * len(corr))
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(size, size * 0.8))
    sns.heatmap(
        corr, vmin=-1, vmax=1, center=0, cmap="vlag", annot=len(corr) <= 10, fmt=".2f", ax=ax
    )
    ax.set_title(f"{method} correlation")
    return ax


def class_balance(df: pd.DataFrame, target: str, *, max_categories: int = 20) -> Any:
    """Bar chart of the target's class counts (a histogram for a continuous target)."""
    sns = _sns()
    if df[target].nunique() > max_categories:
        ax = sns.histplot(x=df[target], bins=30)
        ax.set_title(f"distribution of {target!r}")
        return ax
    ax = sns.countplot(x=df[target].astype(str))
    ax.set_title(f"class balance of {target!r}")
    return ax


def distributions(
    df: pd.DataFrame, columns: Sequence[str], *, hue: str | None = None, max_columns: int = 8
) -> Any:
    """Histograms of (up to ``max_columns``) numeric columns, split by ``hue``; returns the figure."""
    sns = _sns()
    import matplotlib.pyplot as plt

    cols = list(columns)[:max_columns]
    ncols = min(4, max(1, len(cols)))
    nrows = -(-len(cols) // ncols) if cols else 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows), squeeze=False)
    for ax, col in zip(axes.ravel(), cols, strict=False):
        sns.histplot(
            data=df,
            x=col,
            hue=hue,
            stat="density",
            common_norm=False,
            bins=30,
            element="step",
            ax=ax,
            legend=ax is axes.ravel()[0],
        )
    for ax in axes.ravel()[len(cols) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def confusion_heatmap(metrics: Metrics) -> Any:
    """The confusion matrix (rows = model, columns = truth) as an annotated heatmap."""
    sns = _sns()
    ax = sns.heatmap(metrics.confusion(), annot=True, fmt="d", cmap="Blues", cbar=False)
    ax.set_title("confusion matrix")
    return ax


def precision_recall(table: pd.DataFrame, *, threshold: float | None = None) -> Any:
    """Precision and recall against the threshold (from ``metrics.precision_recall_table``)."""
    _sns()
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(table["threshold"], table["precision"], label="precision")
    ax.plot(table["threshold"], table["recall"], label="recall")
    ax.plot(table["threshold"], table["f1"], label="F1", linestyle="--")
    if threshold is not None:
        ax.axvline(threshold, color="grey", linestyle=":", label=f"threshold {threshold:.2f}")
    ax.set_xlabel("threshold")
    ax.legend()
    ax.set_title("precision / recall trade-off")
    return ax


def compare_distributions(
    reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str], *, max_columns: int = 8
) -> Any:
    """Reference vs current histograms of numeric columns (malformed values dropped)."""
    both = pd.concat(
        [
            reference[list(columns)]
            .apply(pd.to_numeric, errors="coerce")
            .assign(batch="reference"),
            current[list(columns)].apply(pd.to_numeric, errors="coerce").assign(batch="current"),
        ],
        ignore_index=True,
    )
    return distributions(both, columns, hue="batch", max_columns=max_columns)
