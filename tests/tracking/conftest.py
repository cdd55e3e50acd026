from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tracking import store


@pytest.fixture(autouse=True)
def _no_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow and W&B send usage data to their vendors unless told not to; tests stay offline."""
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.setenv("WANDB_DISABLE_SENTRY", "true")


@pytest.fixture(scope="session")
def template_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small runs store of ``tests/tracking/store.py``, made once per session (real kernels)."""
    return store.build(tmp_path_factory.mktemp("tracking-template"))


@pytest.fixture
def project(template_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the template store, read once as any command reads it (the runs index
    keeps its folder listing's digest at the first read after runs were added, a write of its
    own); the current directory is its project folder."""
    from mlops_nb.store import query

    p = store.copy(template_project, tmp_path)
    query.sync(p / "runs")
    monkeypatch.chdir(p)
    monkeypatch.setenv("MLOPS_NB_RUNS_DIR", str(p / "runs"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLOPS_NB_TRACK", raising=False)
    return p


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite store with its migrations done (they take seconds): copied per test."""
    from mlflow.tracking import MlflowClient

    db = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments(max_results=1)
    return db


@pytest.fixture
def mlflow_db(mlflow_template: Path, project: Path) -> Path:
    """A migrated MLflow store at the default place: ``mlflow.db`` beside the runs folder."""
    db = project / "mlflow.db"
    shutil.copyfile(mlflow_template, db)
    return db


@pytest.fixture
def wandb_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """W&B's settings, cache and staging folders in the test's own folder; no network."""
    home = tmp_path / "wandb-home"
    for var, sub in (
        ("WANDB_CONFIG_DIR", "config"),
        ("WANDB_CACHE_DIR", "cache"),
        ("WANDB_DATA_DIR", "data"),
        ("WANDB_ARTIFACT_DIR", "artifacts"),
    ):
        (home / sub).mkdir(parents=True)
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    yield home
    os.environ.pop("WANDB_SERVICE", None)
