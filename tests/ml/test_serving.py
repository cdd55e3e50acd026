"""Serving helpers of the shadow/batch templates: the model a parameter names, its predictions,
the scoring table and the disagreements between two models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_nb.ml import datasets, models, shadow


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return datasets.make_rare_events(300, 40, seed=2)


def test_no_source_means_no_model_yet(data: pd.DataFrame) -> None:
    assert shadow.model_from("", data, "faulty") is None


def test_fit_source_trains_like_the_train_template(data: pd.DataFrame) -> None:
    served = shadow.model_from("fit:logreg", data, "faulty", seed=0)
    assert served is not None
    trained = models.train_default(data, "faulty", model="logreg", seed=0)
    assert served.source == "fit:logreg"
    assert served.features == trained.features
    assert served.threshold == trained.threshold
    s, pred = served.predict(data)
    np.testing.assert_allclose(s, models.scores(trained.model, data[trained.features]))
    assert set(np.unique(pred)) <= {0, 1}
    np.testing.assert_array_equal(pred, (s >= served.threshold).astype(int))


def test_a_training_run_folder_is_served_with_its_card(data: pd.DataFrame, tmp_path: Path) -> None:
    trained = models.train_default(data, "faulty", model="logreg", seed=1)
    models.save_model(trained.model, tmp_path / "model.joblib")
    card = {"features": trained.features, "threshold": 0.25}
    (tmp_path / "model.json").write_text(json.dumps(card), encoding="utf-8")
    served = shadow.model_from(str(tmp_path), data, "faulty")
    assert served is not None
    assert (served.features, served.threshold) == (trained.features, 0.25)
    s, pred = served.predict(data)
    np.testing.assert_array_equal(pred, (s >= 0.25).astype(int))


@pytest.mark.parametrize("missing", ["model.joblib", "model.json"])
def test_a_folder_without_the_model_files_is_refused(
    data: pd.DataFrame, tmp_path: Path, missing: str
) -> None:
    for name in ("model.joblib", "model.json"):
        if name != missing:
            (tmp_path / name).write_text("{}", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=f"{missing}: no model here"):
        shadow.model_from(str(tmp_path), data, "faulty")


def test_prediction_table() -> None:
    table = shadow.prediction_table(["a", "b"], [0.1, 0.9], [False, True])
    assert table.to_dict("records") == [
        {"id": "a", "score": 0.1, "prediction": 0},
        {"id": "b", "score": 0.9, "prediction": 1},
    ]


def test_disagreements_without_labels_sorted_by_score_gap() -> None:
    df = pd.DataFrame({"row": [0, 1, 2, 3]})
    out = shadow.disagreements(
        df,
        champion_pred=[0, 1, 0, 1],
        challenger_pred=[1, 1, 0, 0],
        champion_scores=[0.4, 0.9, 0.1, 0.6],
        challenger_scores=[0.6, 0.8, 0.2, 0.1],
    )
    assert list(out["row"]) == [3, 0]  # gaps 0.5 then 0.2; rows that agree left out
    assert "actual" not in out.columns
    assert out["score_gap"].tolist() == pytest.approx([0.5, 0.2])


def test_agreement_of_no_rows_is_undefined() -> None:
    a = shadow.agreement([], [], [], [])
    assert a.n == 0
    assert np.isnan(a.agreement) and np.isnan(a.score_correlation)
    assert a.as_dict()["flips_to_positive"] == 0
