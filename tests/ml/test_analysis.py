from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_nb.ml import analysis, datasets


def test_per_sample_loss_is_log_loss() -> None:
    from sklearn.metrics import log_loss

    y = np.array([0, 1, 1, 0])
    p = np.array([0.1, 0.8, 0.3, 0.6])
    loss = analysis.per_sample_loss(y, p)
    assert loss.mean() == pytest.approx(log_loss(y, p))
    assert np.isfinite(analysis.per_sample_loss([1], [0.0])).all()


def test_errors_sorted_by_loss_descending() -> None:
    df = pd.DataFrame({"id": list("abcd")})
    scored = analysis.errors_by_loss(df, [0, 1, 1, 0], [0.1, 0.8, 0.05, 0.6], top_k=3)
    assert scored["id"].tolist() == ["c", "d", "b"]
    assert scored["loss"].is_monotonic_decreasing
    assert scored["error"].tolist() == [True, True, False]


def test_slice_table_by_tags_and_by_column() -> None:
    df = pd.DataFrame({"group": ["x", "x", "y", "y"]})
    scored = analysis.errors_by_loss(df, [1, 0, 1, 0], [0.9, 0.8, 0.2, 0.1])
    tags = pd.DataFrame({"noise": [True, True, False, False], "gap": [False] * 4})
    table = analysis.slice_table(scored, tags)
    assert table.loc["noise", "errors"] == 1 and table.loc["noise", "false_positives"] == 1
    assert table.loc["gap", "rows"] == 0 and np.isnan(table.loc["gap", "error_rate"])
    assert table.loc["(no tag)", "false_negatives"] == 1
    by_group = analysis.slice_table(scored, ["group"])
    assert list(by_group.index) == ["group=x", "group=y"]
    assert by_group.loc["group=y", "recall"] == 0.0


def test_lecture_tag_table_on_rare_events() -> None:
    df = datasets.make_rare_events(200, 20)
    tags = analysis.default_slices(df, ["magnet_type"])
    assert isinstance(tags, pd.DataFrame) and list(tags.columns) == [
        "noise",
        "gap",
        "bias",
        "sampling",
    ]
    faulty = df.index[df["faulty"] == 1][:3]
    table = analysis.tag_table(tags, faulty, label=df["signal_id"])
    assert list(table.columns) == ["signal_id", "noise", "gap", "bias", "sampling"]
    assert list(table.index) == [1, 2, 3]
    assert set(np.unique(table[["noise", "gap", "bias", "sampling"]].to_numpy())) <= {"x", ""}
    assert analysis.default_slices(pd.DataFrame({"a": [1]}), ["a"]) == ["a"]
