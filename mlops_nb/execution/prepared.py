"""``run --prepare-only``: the parameterized notebook, written but not executed (papermill's
``--prepare-only``), to open in Jupyter. Parameters are validated exactly as for a run."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PREPARED = "prepared"  # RUNS_DIR/prepared/: not run folders (no run.json), never indexed


def prepare_notebook(
    notebook: str | os.PathLike[str],
    params: Mapping[str, Any] | None = None,
    *,
    runs_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
) -> Path:
    """Write ``RUNS_DIR/prepared/<stem>-<time>[-name].ipynb``: the notebook with its parameters
    injected (papermill's ``injected-parameters`` cell), no kernel started; returns its path.

    Raises ``ParameterError``/``NotebookError`` as ``run`` does, ``StoreError`` when the folder
    cannot be written.
    """
    from mlops_nb.errors import StoreError
    from mlops_nb.execution import runner
    from mlops_nb.notebook.io import write_json_notebook
    from mlops_nb.notebook.params import inject
    from mlops_nb.store import runs as store

    spec = runner.prepare(notebook, params, runs_dir=runs_dir, name=name)
    folder = spec.runs_dir / PREPARED
    stem = store.slug(Path(notebook).stem) or "notebook"
    path = folder / f"{stem}-{store.new_run_id(name)}.ipynb"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_json_notebook(path, inject(spec.nb, spec.params))
    except OSError as e:
        raise StoreError(f"cannot write {path}: {e.strerror or e}.") from None
    return path
