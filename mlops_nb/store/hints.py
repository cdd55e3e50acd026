"""The commands that messages tell the user to run, written so that they can be copied and pasted.

A hint such as "run `mlops-nb pipeline run` again to resume" is wrong when the user chose
another store or pipeline file: pasted as printed, it acts on ``./runs`` (or
``$MLOPS_NB_RUNS_DIR``) and ``notebooks/pipeline.yaml``. So a hint names ``--runs-dir`` whenever
the store differs from the one the command picks by itself, and callers add the pipeline file
(``pipeline.hints``) likewise; the words are quoted for a POSIX shell (``shlex.join``).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from mlops_nb.store.place import default_runs_dir


def same_path(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` name the same place (relative paths against the current folder)."""
    return os.path.abspath(a) == os.path.abspath(b)


def command(
    *words: str,
    runs_dir: str | os.PathLike[str] | None = None,
    usual: str | os.PathLike[str] | None = None,
) -> str:
    """``mlops-nb WORDS`` plus ``--runs-dir RUNS_DIR`` unless ``runs_dir`` is None or the store
    the command uses without the option (``usual``; default ``$MLOPS_NB_RUNS_DIR`` or ``runs``)."""
    parts = ["mlops-nb", *words]
    if runs_dir is not None and not same_path(runs_dir, usual or default_runs_dir()):
        parts += ["--runs-dir", str(Path(runs_dir))]
    return shlex.join(parts)
