"""Where the runs store is when a command is not told: ``$MLOPS_NB_RUNS_DIR``, else ``./runs``
(the README's "runs store"). Its own module so that ``store.runs`` and ``store.hints`` (the
commands messages suggest, which name ``--runs-dir`` unless it is this one) both read it."""

from __future__ import annotations

import os
from pathlib import Path

from mlops_nb.errors import StoreError


def default_runs_dir() -> Path:
    return Path(os.environ.get("MLOPS_NB_RUNS_DIR") or "runs")


def resolve_runs_dir(runs_dir: str | os.PathLike[str] | None) -> Path:
    return Path(runs_dir) if runs_dir is not None else default_runs_dir()


def no_runs_folder(runs_dir: str | os.PathLike[str]) -> StoreError:
    """The error for a store that is not a folder, in words for the CLI and the Python API."""
    return StoreError(
        f"no runs folder at {runs_dir}: give the store with --runs-dir (Python: runs_dir=) "
        "or MLOPS_NB_RUNS_DIR."
    )
