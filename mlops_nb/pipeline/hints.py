"""``mlops-nb pipeline ...`` commands named in messages, copy-pasteable (``store.hints``): they
name the pipeline file unless it is the default ``notebooks/pipeline.yaml``, and ``--runs-dir``
unless the store is the one the command picks by itself (the file's ``runs_dir:``, else
``$MLOPS_NB_RUNS_DIR`` or ``runs``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlops_nb.pipeline.spec import DEFAULT_FILE
from mlops_nb.store import hints

if TYPE_CHECKING:
    from mlops_nb.pipeline.spec import Pipeline


def command(pipeline: Pipeline, action: str, *words: str, runs_dir: Path | None = None) -> str:
    """``mlops-nb pipeline ACTION WORDS [FILE] [--runs-dir DIR]``, e.g. ``pipeline run`` to
    resume, ``pipeline mark-done STEP`` (no ``--runs-dir`` when ``runs_dir`` is None)."""
    file = [] if hints.same_path(pipeline.path, DEFAULT_FILE) else [hints.path_word(pipeline.path)]
    return hints.command(
        "pipeline", action, *words, *file, runs_dir=runs_dir, usual=pipeline.runs_dir
    )


def rerun_gate(pipeline: Pipeline, step: str, runs_dir: Path | None) -> str:
    """``mlops-nb pipeline run --force GATE [FILE] [--runs-dir DIR]``: run the gate ``step``
    again (its steps downstream follow), named in the gate's held and damaged-record lines."""
    return command(pipeline, "run", "--force", step, runs_dir=runs_dir)
