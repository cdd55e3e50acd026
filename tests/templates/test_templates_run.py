"""Every template executed in a real kernel, with its defaults and other parameters; the glued
numbers must make sense."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlops_nb import ml
from tests.templates._execute import execute

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def test_eda_defaults_write_the_schema(tmp_path: Path) -> None:
    scraps, out = execute("eda", tmp_path)
    assert scraps["n_rows"] == 3242 and scraps["n_classes"] == 2
    assert scraps["minority_fraction"] == pytest.approx(112 / 3242)
    assert scraps["missing_rate"] == 0.0
    schema = ml.Schema.load(out / "schema.json")
    assert schema.column("magnet_type").categories == ("MB", "MQ", "MQX")


@pytest.mark.parametrize(
    ("data", "target", "n_classes"),
    [("builtin:breast_cancer", "malignant", 2), ("builtin:diabetes", "target", None)],
    ids=["breast_cancer", "diabetes-continuous"],
)
def test_eda_other_data(tmp_path: Path, data: str, target: str, n_classes: int | None) -> None:
    scraps, out = execute("eda", tmp_path, data=data, target=target, corr_method="spearman")
    if n_classes:
        assert scraps["n_classes"] == n_classes
        assert scraps["minority_fraction"] == pytest.approx(212 / 569)
    else:
        assert (
            "minority_fraction" not in scraps
        )  # no classes: not glued (scrapbook cannot glue None)
    assert (out / "schema.json").is_file()


def test_train_defaults_beat_the_baseline(tmp_path: Path) -> None:
    scraps, out = execute("train", tmp_path)
    assert scraps["baseline_accuracy"] == pytest.approx(0.965, abs=0.002)
    assert scraps["baseline_f1"] == 0.0
    assert scraps["f1"] > 0.7 and scraps["recall"] > 0.6
    assert scraps["n_schema_violations"] == 0
    model = ml.load_model(out / "model.joblib")
    test = pd.read_parquet(out / "test.parquet")
    assert len(test) == 324 and test["faulty"].sum() == 11
    assert ml.scores(model, test[ml.model_features(model)]).shape == (324,)


def test_train_random_forest_on_breast_cancer(tmp_path: Path) -> None:
    scraps, _ = execute(
        "train",
        tmp_path,
        data="builtin:breast_cancer",
        target="malignant",
        model="random_forest",
        class_weight="none",
        tune_threshold=False,
    )
    assert scraps["threshold"] == 0.5
    assert scraps["f1"] > 0.85 and scraps["accuracy"] > 0.9


def test_evaluate_standalone(tmp_path: Path) -> None:
    scraps, out = execute("evaluate", tmp_path)
    assert scraps["n_test"] == 324
    assert scraps["f1"] > 0.6 > scraps["baseline_f1"]
    assert 0.5 < scraps["pr_auc"] <= 1.0
    assert (out / "worst_errors.csv").is_file()


def test_monitor_defaults_detect_drift(tmp_path: Path) -> None:
    scraps, out = execute("monitor", tmp_path)
    assert scraps["drift_detected"] is True
    assert scraps["n_drifted_features"] >= 3
    assert scraps["missing_rate_change"] > 0.02
    assert scraps["prediction_drift"] > 0.1
    assert (out / "drift.csv").is_file()


def test_monitor_fresh_sample_no_drift(tmp_path: Path) -> None:
    scraps, _ = execute(
        "monitor", tmp_path, current="builtin:rare_events?seed=7", model="gradient_boosting"
    )
    assert scraps["drift_detected"] is False
    assert scraps["n_drifted_features"] == 0
    assert scraps["missing_rate_change"] == 0.0


def test_pipeline_chain_eda_train_evaluate_monitor(tmp_path: Path) -> None:
    _, eda = execute("eda", tmp_path)
    train, train_dir = execute(
        "train", tmp_path, model="gradient_boosting", upstream={"eda": str(eda)}
    )
    assert train["f1"] > train["baseline_f1"] + 0.5
    evaluate, _ = execute("evaluate", tmp_path, upstream={"train": str(train_dir)})
    assert evaluate["threshold"] == pytest.approx(train["threshold"])
    assert evaluate["f1"] > evaluate["baseline_f1"] + 0.5
    monitor, _ = execute("monitor", tmp_path, upstream={"eda": str(eda), "train": str(train_dir)})
    assert monitor["drift_detected"] is True and monitor["n_schema_violations"] > 0
