"""Rerun a recorded run: execute the code *recorded* in it (its ``output.ipynb``, not the current
notebook file) with the same parameters, into a new run linked to it (``rerun_of``, and the
original's ``registry`` provenance: the same model folders), and compare the scalar scraps: exact
for strings, booleans and integers, relative tolerance for floats.

The rerun of a run named ``NAME`` is named ``NAME-rerun-N`` (the next free N; the rerun of a
rerun counts on from the same ``NAME``): names stay unique, as MLflow's run names are, so
``NAME`` keeps meaning the original and ``diff NAME latest`` compares the two.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_nb.errors import StoreError, UsageError
from mlops_nb.notebook.io import INJECTED_TAG, code_sha256, read_notebook, source_of, tags_of
from mlops_nb.results.diff import Change, compare_maps
from mlops_nb.store import runs as store

DEFAULT_RTOL = 1e-9
_RERUN_NAME = re.compile(r"^(?P<base>.+)-rerun-\d+$")
_NAME_ROOM = 48  # store.slug keeps this many characters of a name


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
    if not path.is_file():  # a lost run's code is in the notebook it was writing
        path = folder / store.PARTIAL_OUTPUT
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


def rerun(
    folder: Path,
    *,
    rtol: float = DEFAULT_RTOL,
    timeout: float | None = None,
    check: bool = False,
) -> Rerun:
    """Execute the run's recorded code with its parameters into a new linked run; compare its
    scalar scraps with those the original recorded (all of them when the original finished
    ``ok``; only those it recorded before it stopped otherwise). ``check``: the comparison is
    wanted, so an original with no scalar scrap is a ``UsageError`` before anything runs (there
    is nothing to compare). Raises ``StoreError`` when the recorded code is gone or changed."""
    from mlops_nb.execution import runner

    record = store.read_record(folder)
    if check:
        expect_scraps(folder, record)
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
    registry = {"registry": record["registry"]} if record.get("registry") else {}
    spec = runner.prepare(
        path,
        params,
        runs_dir=folder.parent,
        name=rerun_name(record, folder.parent),
        timeout=timeout if timeout is not None else record.get("timeout_s"),
        cwd=path.parent if path.parent.is_dir() else Path.cwd(),
        nb=nb,
        kernel_name=record.get("kernel"),  # the kernel it ran with (-k, or the kernelspec)
        extra={"rerun_of": record.get("id", folder.name), **registry},
    )
    new = runner.execute_run(spec)
    new_record = store.read_record(new)
    before = record.get("scraps") or {}
    after = new_record.get("scraps") or {}
    if record.get("status") != "ok":  # judge only what the original got to record
        after = {k: v for k, v in after.items() if k in before}
    return Rerun(
        original=folder,
        new=new,
        status=str(new_record.get("status")),
        differences=compare_scraps(before, after, rtol=rtol),
    )


def expect_scraps(folder: Path, record: dict[str, Any]) -> None:
    """Raise ``UsageError`` when the run recorded no scalar scrap: a rerun has nothing to be
    compared with (a lost run, a run that failed before its first ``glue``)."""
    if record.get("scraps"):
        return
    raise UsageError(
        f"run {folder.name} is {record.get('status')} and recorded no scalar scraps, so a rerun "
        "has nothing to compare with; drop --check to rerun it anyway."
    )


def rerun_name(record: dict[str, Any], runs_dir: Path) -> str | None:
    """``NAME-rerun-N`` for the rerun of a run named ``NAME`` (or of a rerun of it), N the next
    number no run of ``runs_dir`` has; None for an unnamed run. ``NAME`` is shortened so that
    the run id keeps the whole suffix (``store.slug`` keeps 48 characters)."""
    from mlops_nb.store.refs import name_of

    name = record.get("name")
    if not name:
        return None
    found = _RERUN_NAME.match(name)
    base = found["base"] if found and record.get("rerun_of") else str(name)
    slug = store.slug(base)
    room = _NAME_ROOM - len("-rerun-") - 6  # six digits of N
    if len(slug) > room:
        base = slug = slug[:room].rstrip("-.")
    # what a run id holds of NAME-rerun-N (a name in another script keeps only "rerun-N")
    taken = re.compile(re.escape(store.slug(f"{base}-rerun-0")[:-1]) + r"(\d+)$")
    numbers = [
        int(m[1]) for f in store.iter_run_folders(runs_dir) if (m := taken.match(name_of(f.name)))
    ]
    return f"{base}-rerun-{max(numbers, default=0) + 1}"
