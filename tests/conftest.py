from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# A test that forgets to choose a runs folder must fail, not write into the user's ./runs.
FORGOT_RUNS_DIR = "/nonexistent/mlops-nb-tests-must-choose-a-runs-dir"


@pytest.fixture(autouse=True)
def _isolate(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    monkeypatch.setenv("MLOPS_NB_RUNS_DIR", FORGOT_RUNS_DIR)
    cache = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    # Kernels and git must not pick up the developer's configuration.
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.com")
    monkeypatch.delenv("MLOPS_NB_NO_PROGRESS", raising=False)
    yield


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh runs folder, also set as MLOPS_NB_RUNS_DIR for subprocesses."""
    d = tmp_path / "runs"
    monkeypatch.setenv("MLOPS_NB_RUNS_DIR", str(d))
    return d


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty real git repository (no templates, no user config)."""
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    empty_tpl = tmp_path / "git-template"
    empty_tpl.mkdir()
    monkeypatch.setenv("GIT_TEMPLATE_DIR", str(empty_tpl))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    return repo


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


# Integration tests whose packages conflict with this environment run in environments of their
# own (tests/integrations.py), which names the markers it runs in MLOPS_NB_INTEGRATIONS. Here they
# are deselected, not skipped: a skip would look like a missing feature.
INTEGRATION_MARKERS = ("mlflow", "tensorboard", "wandb", "dvc", "kfp", "argo", "env")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    enabled = {m for m in os.environ.get("MLOPS_NB_INTEGRATIONS", "").split(",") if m}
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        wanted = {m for m in INTEGRATION_MARKERS if item.get_closest_marker(m)}
        (keep if not wanted or wanted <= enabled else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
