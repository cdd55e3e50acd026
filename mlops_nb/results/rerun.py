"""Rerun a recorded run: execute the code *recorded* in it (its ``output.ipynb``, not the current
notebook file) with the same parameters, into a new run linked to it (``rerun_of``), and compare
the scalar scraps: exact for strings, booleans and integers, relative tolerance for floats.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_nb.errors import StoreError
from mlops_nb.notebook.io import INJECTED_TAG, code_sha256, read_notebook, source_of, tags_of
from mlops_nb.results.diff import Change, compare_maps
from mlops_nb.store import runs as store

DEFAULT_RTOL = 1e-9


@dataclass(frozen=True)
class Rerun:
    original: Path
    new: Path
    status: str
    differences: list[Change]

    @property
    def reproducible(self) -> bool:
        return self.status == "ok" and not self.differences


def recorded_notebook(folder: Path) -> dict[str, Any]:
    """The notebook as it ran: its output notebook without the injected cell and outputs."""
    path = folder / store.OUTPUT
    if not path.is_file():
        raise StoreError(f"{folder}: no {store.OUTPUT}; the recorded code is gone, cannot rerun.")
    nb = copy.deepcopy(read_notebook(path))
    nb["cells"] = [c for c in nb.get("cells", []) if INJECTED_TAG not in tags_of(c)]
    for cell in nb["cells"]:
        cell["source"] = source_of(cell)  # papermill/nbclient want strings, files may hold lists
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
    nb.get("metadata", {}).pop("papermill", None)
    return nb


def same(a: Any, b: Any, *, rtol: float) -> bool:
    """Scrap equality: floats within ``rtol`` (NaN equals NaN), everything else exactly."""
    if isinstance(a, float | int) and isinstance(b, float | int):
        if isinstance(a, bool) or isinstance(b, bool):
            return a is b
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=rtol, abs_tol=0.0)
    return type(a) is type(b) and a == b


def compare_scraps(a: dict[str, Any], b: dict[str, Any], *, rtol: float) -> list[Change]:
    return compare_maps(a, b, deltas=True, same=lambda x, y: same(x, y, rtol=rtol))


def rerun(folder: Path, *, rtol: float = DEFAULT_RTOL, timeout: float | None = None) -> Rerun:
    """Execute the run's recorded code with its parameters into a new linked run; compare."""
    from mlops_nb.execution import runner

    record = store.read_record(folder)
    nb = recorded_notebook(folder)
    recorded_sha = (record.get("notebook") or {}).get("code_sha256")
    if recorded_sha and code_sha256(nb) != recorded_sha:
        raise StoreError(
            f"{folder / store.OUTPUT}: its code does not match the record's code_sha256; "
            "the output notebook was changed after the run, so it cannot be rerun faithfully."
        )
    params = dict(record.get("params") or {})
    if str(params.get(runner.OUTPUT_DIR_PARAM)) == str(folder.resolve()):
        del params[runner.OUTPUT_DIR_PARAM]  # the new run gets its own folder
    nbinfo = record.get("notebook") or {}
    path = Path(nbinfo.get("path") or "rerun.ipynb")
    if nbinfo.get("abspath") and str(path.resolve()) != nbinfo["abspath"]:
        path = Path(nbinfo["abspath"])  # run from another folder: keep the original location
    spec = runner.prepare(
        path,
        params,
        runs_dir=folder.parent,
        name=record.get("name"),
        timeout=timeout if timeout is not None else record.get("timeout_s"),
        cwd=path.parent if path.parent.is_dir() else Path.cwd(),
        nb=nb,
        kernel_name=record.get("kernel"),  # the kernel it ran with (-k, or the kernelspec)
        extra={"rerun_of": record.get("id", folder.name)},
    )
    new = runner.execute_run(spec)
    new_record = store.read_record(new)
    return Rerun(
        original=folder,
        new=new,
        status=str(new_record.get("status")),
        differences=compare_scraps(
            record.get("scraps") or {}, new_record.get("scraps") or {}, rtol=rtol
        ),
    )
