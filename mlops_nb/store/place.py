"""Where the runs store is when a command is not told: ``$MLOPS_NB_RUNS_DIR``, else ``./runs``
(the README's "runs store"). Its own module so that ``store.runs`` and ``store.hints`` (the
commands messages suggest, which name ``--runs-dir`` unless it is this one) both read it."""

from __future__ import annotations

import os
from pathlib import Path


def default_runs_dir() -> Path:
    return Path(os.environ.get("MLOPS_NB_RUNS_DIR") or "runs")


def resolve_runs_dir(runs_dir: str | os.PathLike[str] | None) -> Path:
    return Path(runs_dir) if runs_dir is not None else default_runs_dir()
