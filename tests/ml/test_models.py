from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlops_nb import ml
from mlops_nb.ml import datasets, models


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return datasets.make_rare_events(1500, 60)


def test_feature_columns_leave_out_target_and_ids(data) -> None:  # type: ignore[no-untyped-def]
    numeric, categorical = models.feature_columns(data, "faulty")
    assert "faulty" not in numeric and "signal_id" not in numeric + categorical
    assert categorical == ["magnet_type"]


@pytest.mark.parametrize("name", models.MODEL_NAMES)
def test_every_model_beats_the_baseline(data, name: str) -> None:  # type: ignore[no-untyped-def]
    trained = models.train_default(data, "faulty", model=name, seed=0)
    test = trained.split.test
    score = models.scores(trained.model, test[trained.features])
    res = ml.classification_metrics(test["faulty"], ml.predict_at(score, trained.threshold), score)
    assert res.f1 > 0.5 > ml.baselines(test["faulty"])["always_negative"].f1


def test_preprocessing_is_fitted_on_train_only(data) -> None:  # type: ignore[no-untyped-def]
    trained = models.train_default(data, "faulty", seed=0)
    scaler = trained.model.named_steps["preprocess"].named_transformers_["numeric"]["scale"]
    assert np.atleast_1d(scaler.n_samples_seen_)[0] == len(trained.split.train)
    assert scaler.mean_[0] == pytest.approx(trained.split.train["noise_level"].mean())


def test_pipeline_handles_drifted_data_and_roundtrips(data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    trained = models.train_default(data, "faulty", model="random_forest", class_weight="none")
    path = models.save_model(trained.model, tmp_path / "model.joblib")
    loaded = models.load_model(path)
    assert models.model_features(loaded) == trained.features
    drifted = datasets.make_rare_events_drifted(200, 10)
    clean = ml.coerce(drifted, ml.infer_schema(data))
    score = models.scores(loaded, clean[trained.features])
    assert np.isfinite(score).all()
    np.testing.assert_allclose(score, models.scores(trained.model, clean[trained.features]))


def test_binarize_and_errors(data) -> None:  # type: ignore[no-untyped-def]
    wine = datasets.load_dataset("builtin:wine")
    assert set(models.binarize(wine, "target", positive=2)["target"]) == {0, 1}
    with pytest.raises(ValueError, match="logreg, random_forest, gradient_boosting"):
        models.make_model("svm", numeric=["x"])
    with pytest.raises(ValueError, match="class_weight"):
        models.fit(
            models.make_model("logreg", numeric=["noise_level"]),
            data,
            data["faulty"],
            class_weight="auto",
        )
    with pytest.raises(ValueError, match="positive label"):
        models.scores(models.train_default(data, "faulty").model, data, positive=5)
