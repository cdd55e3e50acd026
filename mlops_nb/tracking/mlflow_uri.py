"""Where an MLflow store is: tracking URIs with one name per store, and a new SQLite store made
in WAL mode. No MLflow import (MLflow docs, "Where Runs Are Recorded"; SQLite docs, "Write-Ahead
Logging")."""

from __future__ import annotations

import os
from pathlib import Path


def default_uri(runs_dir: Path) -> str:
    """``$MLFLOW_TRACKING_URI``, else ``sqlite:///<folder of the runs store>/mlflow.db``."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return normalize_uri(env)
    return "sqlite:///" + str(Path(runs_dir).resolve().parent / "mlflow.db")


def normalize_uri(uri: str) -> str:
    """A relative ``sqlite:///x.db`` made absolute, so one store always has one name."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/") and uri != prefix + ":memory:":
        return prefix + str(Path(uri[len(prefix) :]).resolve())
    return uri.rstrip("/") if "://" in uri and not uri.startswith(prefix) else uri


def new_sqlite_store(uri: str) -> None:
    """Create a SQLite store that does not exist yet in WAL mode (before MLflow migrates it).

    In SQLite's default rollback-journal mode every commit syncs the journal, the database and
    the folder; in WAL mode one append is synced. MLflow commits several times per logged run,
    so this is most of an export's time (see benchmarks/export.py). WAL is kept by the file;
    readers (``mlflow ui``) and other local writers work as before. An existing store is left
    as it is. (SQLite docs, "Write-Ahead Logging": not for databases on network filesystems.)
    """
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return
    path = Path(uri[len(prefix) :])
    if path.exists() or not path.parent.is_dir():
        return
    import sqlite3

    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
