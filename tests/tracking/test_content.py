"""What every exporter sends of a run, and where an MLflow store is: pure parts, no SDK needed."""

from __future__ import annotations

import calendar
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.store import runs as store
from mlops_nb.tracking.content import artifact_files, artifacts_choice, millis
from mlops_nb.tracking.mlflow_uri import default_uri, new_sqlite_store, normalize_uri
from mlops_nb.tracking.registry import ExportError


def test_artifacts_choice() -> None:
    assert artifacts_choice(None) == "all"
    assert artifacts_choice("notebook") == "notebook"
    with pytest.raises(ExportError, match=r"--artifacts 'some': choose from all, notebook, none\."):
        artifacts_choice("some")


@pytest.mark.parametrize(
    ("iso", "ms"),
    [
        ("1970-01-01T00:00:01Z", 1000),
        ("1970-01-01T01:00:00.5+01:00", 500),
        ("2026-11-30T07:00:00.123456Z", calendar.timegm((2026, 11, 30, 7, 0, 0)) * 1000 + 123),
        (None, None),
        ("", None),
    ],
)
def test_millis(iso: str | None, ms: int | None) -> None:
    assert millis(iso) == ms


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "runs" / "r1"
    (folder / "plots").mkdir(parents=True)
    for name in (store.OUTPUT, store.RECORD, store.ENVIRONMENT, "model.joblib", "plots/roc.png"):
        (folder / name).write_text(name, encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside", encoding="utf-8")
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    return folder


RECORD: dict[str, Any] = {
    "artifacts": {
        "model.joblib": {},
        "plots/roc.png": {},
        "../secret.txt": {},  # outside the run folder
        "link.txt": {},  # inside, but pointing outside
        "gone.csv": {},  # listed, then deleted
        store.RECORD: {},  # already sent
    }
}


def test_all_artifacts_stay_inside_the_run_folder(run_folder: Path) -> None:
    files = artifact_files(run_folder, RECORD, "all")
    assert [(p.relative_to(run_folder.resolve()).as_posix(), d) for p, d in files] == [
        (store.OUTPUT, None),
        (store.RECORD, None),
        (store.ENVIRONMENT, None),
        ("model.joblib", None),
        ("plots/roc.png", "plots"),
    ]


def test_notebook_only_or_nothing(run_folder: Path) -> None:
    assert artifact_files(run_folder, RECORD, "notebook") == [(run_folder / store.OUTPUT, None)]
    assert artifact_files(run_folder, RECORD, "none") == []
    (run_folder / store.OUTPUT).unlink()  # a run killed before its output notebook was written
    assert artifact_files(run_folder, {}, "notebook") == []


def test_default_uri_is_a_sqlite_store_beside_the_runs_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert default_uri(tmp_path / "runs") == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000/")
    assert default_uri(tmp_path / "runs") == "http://tracking.example:5000"


def test_normalize_uri_gives_one_store_one_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    absolute = f"sqlite:///{tmp_path.resolve()}/m.db"
    assert normalize_uri("sqlite:///m.db") == absolute
    assert normalize_uri(absolute) == absolute
    assert normalize_uri("sqlite:///:memory:") == "sqlite:///:memory:"
    assert normalize_uri("https://host/mlflow/") == "https://host/mlflow"
    assert normalize_uri("databricks") == "databricks"


def test_a_new_sqlite_store_is_made_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    new_sqlite_store(f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_an_existing_store_or_another_uri_is_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    sqlite3.connect(db).close()
    new_sqlite_store(f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    new_sqlite_store(f"sqlite:///{tmp_path}/missing-folder/m.db")
    assert not (tmp_path / "missing-folder").exists()  # MLflow reports that folder, not us
    new_sqlite_store("http://localhost:5000")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.db"]
