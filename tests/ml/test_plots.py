"""The templates' plots draw what they claim: the numbers on a figure are the data's own."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from mlops_nb.ml import metrics, plots

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # no display in CI; the figures are inspected, not shown

# seaborn's heatmap re-centres its colormap with Colormap.set_bad, which matplotlib 3.11 marks as
# pending deprecation; not ours to fix (a notebook shows the warning and draws the plot).
SEABORN_SET_BAD = "ignore:The set_bad function will be deprecated:PendingDeprecationWarning"


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "twice_x": 2 * x + rng.normal(scale=0.1, size=n),
            "noise": rng.normal(size=n),
            "label": rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1]),
        }
    )


@pytest.mark.filterwarnings(SEABORN_SET_BAD)
@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlation_heatmap_shows_the_correlations_of_numeric_columns(method: str) -> None:
    df = _frame()
    ax = plots.correlation_heatmap(df, method=method)
    expected = df.corr(method=method, numeric_only=True)
    shown = np.asarray(ax.collections[0].get_array()).reshape(expected.shape)
    np.testing.assert_allclose(shown, expected.to_numpy())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "twice_x", "noise"]
    assert f"{expected.loc['x', 'twice_x']:.2f}" in {t.get_text() for t in ax.texts}
    assert ax.get_title() == f"{method} correlation"


@pytest.mark.filterwarnings(SEABORN_SET_BAD)
def test_correlation_heatmap_drops_annotations_when_the_matrix_is_large() -> None:
    rng = np.random.default_rng(1)
    wide = pd.DataFrame(rng.normal(size=(50, 11)), columns=[f"c{i}" for i in range(11)])
    ax = plots.correlation_heatmap(wide)
    assert len(ax.texts) == 0  # 121 numbers would be unreadable


def test_class_balance_counts_each_class() -> None:
    df = _frame()
    ax = plots.class_balance(df, "label")
    counts = df["label"].value_counts()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    bars = dict(zip(labels, (p.get_height() for p in ax.patches), strict=True))
    assert bars == {k: float(v) for k, v in counts.items()}
    assert ax.get_title() == "class balance of 'label'"


def test_class_balance_of_a_continuous_target_is_a_histogram() -> None:
    df = _frame()
    ax = plots.class_balance(df, "x", max_categories=20)
    assert ax.get_title() == "distribution of 'x'"
    assert len(ax.patches) == 30
    assert sum(p.get_height() for p in ax.patches) == len(df)


def test_distributions_one_panel_per_column_up_to_the_limit() -> None:
    df = _frame()
    cols = ["x", "twice_x", "noise", "x", "twice_x"]
    fig = plots.distributions(df, cols, hue="label", max_columns=5)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in visible] == cols
    assert len(fig.axes) == 8  # a 2 x 4 grid, the three spare panels hidden
    assert visible[0].get_legend() is not None  # one legend, on the first panel
    assert all(ax.get_legend() is None for ax in visible[1:])


def test_distributions_cuts_at_max_columns() -> None:
    df = _frame()
    fig = plots.distributions(df, ["x", "twice_x", "noise"], max_columns=2)
    assert [ax.get_xlabel() for ax in fig.axes if ax.get_visible()] == ["x", "twice_x"]


def test_confusion_heatmap_annotates_the_four_counts() -> None:
    m = metrics.classification_metrics([1, 1, 0, 0, 0, 1, 0], [1, 0, 0, 1, 0, 1, 0])
    ax = plots.confusion_heatmap(m)
    shown = [t.get_text() for t in ax.texts]
    assert shown == [str(m.tp), str(m.fp), str(m.fn), str(m.tn)]  # rows = model, cols = truth
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "predicted positive",
        "predicted negative",
    ]


def test_precision_recall_plots_the_table_and_the_chosen_threshold() -> None:
    y = np.r_[np.zeros(40, dtype=int), np.ones(10, dtype=int)]
    score = np.linspace(0, 1, 50)
    table = metrics.precision_recall_table(y, score)
    ax = plots.precision_recall(table, threshold=0.7)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_allclose(lines["precision"].get_ydata(), table["precision"])
    np.testing.assert_allclose(lines["recall"].get_xdata(), table["threshold"])
    np.testing.assert_allclose(lines["F1"].get_ydata(), table["f1"])
    assert list(lines["threshold 0.70"].get_xdata()) == [0.7, 0.7]


def test_precision_recall_without_threshold_draws_three_curves() -> None:
    table = metrics.precision_recall_table([0, 1, 0, 1], [0.1, 0.9, 0.4, 0.6])
    ax = plots.precision_recall(table)
    assert [ln.get_label() for ln in ax.get_lines()] == ["precision", "recall", "F1"]


def test_compare_distributions_drops_malformed_values() -> None:
    ref = pd.DataFrame({"v": [1.0, 2.0, 3.0, 4.0]})
    cur = pd.DataFrame({"v": ["1.5", "ERR", "2.5", "n/a"]})  # a drifted batch read as text
    fig = plots.compare_distributions(ref, cur, ["v"])
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert ax.get_xlabel() == "v"
    legend = ax.get_legend()
    assert legend is not None
    assert sorted(t.get_text() for t in legend.get_texts()) == ["current", "reference"]
    # the readable values span 1..4: the malformed text neither crashed the plot nor became 0
    lo, hi = ax.get_xlim()
    assert lo > 0.5 and hi < 4.5
