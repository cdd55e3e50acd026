"""Where the runs store is when a command is not told: ``$MLOPS_NB_RUNS_DIR``, else ``./runs``
(the README's "runs store"). Its own module so that ``store.runs`` and ``store.hints`` (the
commands messages suggest, which name ``--runs-dir`` unless it is this one) both read it."""

from __future__ import annotations

import os
from pathlib import Path

from mlops_nb.errors import StoreError
from mlops_nb.store.naming import named


def default_runs_dir() -> Path:
    return Path(os.environ.get("MLOPS_NB_RUNS_DIR") or "runs")


def resolve_runs_dir(runs_dir: str | os.PathLike[str] | None) -> Path:
    """The store: ``runs_dir``, else the default. A folder, or a path where one will be made;
    anything else there (a file) raises ``no_runs_folder``, for reading and writing commands
    alike (``registry list`` and ``pipeline status`` read an absent store as an empty one)."""
    path = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    if os.path.lexists(path) and not path.is_dir():
        raise no_runs_folder(path)
    return path


def no_runs_folder(runs_dir: str | os.PathLike[str]) -> StoreError:
    """The error for a store that is not a folder, naming ``--runs-dir`` in the CLI and
    ``runs_dir=`` in Python (``store.naming``)."""
    what = "does not exist"
    if os.path.lexists(runs_dir):
        what = "is a file" if os.path.isfile(runs_dir) else "is not a folder"
    return StoreError(
        f"no runs folder at {runs_dir} (it {what}): give the store with {named('runs_dir')} "
        "or MLOPS_NB_RUNS_DIR."
    )
