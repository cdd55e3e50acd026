from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_nb.ml import datasets, rare_events


def test_rare_events_default_counts_and_determinism() -> None:
    df = datasets.load_dataset("builtin:rare_events")
    assert (df["faulty"] == 0).sum() == 3130 and (df["faulty"] == 1).sum() == 112
    pd.testing.assert_frame_equal(df, datasets.make_rare_events(seed=0))
    other = datasets.load_dataset("builtin:rare_events?seed=3&n_healthy=100")
    assert len(other) == 212 and not other["noise_level"].equals(df["noise_level"].head(212))


def test_faulty_signals_show_the_issues() -> None:
    signals = rare_events.make_signals(500, 100, seed=1)
    tags = rare_events.issue_tags(rare_events.signal_features(signals))
    assert (tags.to_numpy() == signals.issues.to_numpy()).mean() > 0.97
    faulty = signals.faulty == 1
    assert tags[faulty].any(axis=1).mean() > 0.9
    assert tags[~faulty].any(axis=1).mean() < 0.1


def test_drifted_batch_has_missing_malformed_and_a_new_category() -> None:
    df = datasets.load_dataset("builtin:rare_events_drifted")
    assert df["noise_level"].isna().mean() > 0.04
    assert df["sampling_jitter"].isin(datasets.MALFORMED_TOKENS).any()
    assert "MQY" in set(df["magnet_type"])
    assert (df["plateau_level"] == -999).any()


@pytest.mark.parametrize(
    ("name", "target", "rows"),
    [
        ("breast_cancer", "malignant", 569),
        ("wine", "target", 178),
        ("iris", "target", 150),
        ("diabetes", "target", 442),
    ],
)
def test_sklearn_sets(name: str, target: str, rows: int) -> None:
    df = datasets.load_dataset(f"builtin:{name}")
    assert len(df) == rows and target in df.columns
    assert datasets.default_target(f"builtin:{name}") == target


def test_breast_cancer_positive_is_malignant() -> None:
    df = datasets.load_dataset("builtin:breast_cancer")
    assert df["malignant"].sum() == 212


def test_files_and_errors(tmp_path: Path) -> None:
    df = datasets.make_rare_events(50, 5)
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_parquet(tmp_path / "d.parquet")
    assert len(datasets.load_dataset(str(tmp_path / "d.csv"))) == 55
    pd.testing.assert_frame_equal(datasets.load_dataset(str(tmp_path / "d.parquet")), df)
    with pytest.raises(ValueError, match="builtin:rare_events"):
        datasets.load_dataset("builtin:nope")
    with pytest.raises(FileNotFoundError):
        datasets.load_dataset(str(tmp_path / "missing.csv"))
    (tmp_path / "d.txt").write_text("x")
    with pytest.raises(ValueError, match="unsupported"):
        datasets.load_dataset(str(tmp_path / "d.txt"))


def test_shift_windows_augmentation() -> None:
    signal = np.arange(20.0)
    windows = rare_events.shift_windows(signal, start=5, width=4, max_shift=2)
    assert windows.shape == (5, 4)
    assert windows[0].tolist() == [5, 6, 7, 8]
    assert sorted(w[0] for w in windows) == [3, 4, 5, 6, 7]
    edge = rare_events.shift_windows(signal, start=0, width=4, max_shift=2)
    assert sorted(w[0] for w in edge) == [0, 1, 2]
    x, y = rare_events.augment_by_shifting(
        np.vstack([signal, signal]), np.array([0, 1]), start=5, width=4, max_shift=2
    )
    assert len(x) == 6 and y.tolist() == [0, 1, 1, 1, 1, 1]
    with pytest.raises(ValueError, match="does not fit"):
        rare_events.shift_windows(signal, start=18, width=4, max_shift=0)


def test_case_control_sampling_and_prior_correction() -> None:
    df = datasets.make_rare_events()
    sample = rare_events.case_control_sample(df, "faulty", controls_per_case=3, seed=0)
    assert (sample["faulty"] == 1).sum() == 112 and (sample["faulty"] == 0).sum() == 336
    again = rare_events.case_control_sample(df, "faulty", controls_per_case=3, seed=0)
    assert sample.index.equals(again.index)
    corrected = rare_events.prior_correction(
        np.array([0.25]), sample_rate=0.25, population_rate=112 / 3242
    )
    assert corrected[0] == pytest.approx(112 / 3242)
