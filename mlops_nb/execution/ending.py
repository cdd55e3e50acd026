"""How a run ended, and what it leaves: the status and error read from the execution, the output
notebook, and the final record written even on a full disk (``runner``'s last steps)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_nb import strict_json
from mlops_nb.errors import StoreError
from mlops_nb.store import liveness
from mlops_nb.store import runs as store


def write_output(
    folder: Path, nb: Any, injected: dict[str, Any]
) -> tuple[dict[str, Any], StoreError | None]:
    """Write the output notebook (the injected one if execution left none); the notebook as a
    dict, and the error that kept it from being written (the run is then never ``ok``)."""
    from mlops_nb.execution.papermill_adapter import notebook_to_json
    from mlops_nb.notebook.io import atomic_write_text

    nb_dict: dict[str, Any]
    if nb is not None:
        text = notebook_to_json(nb)
        nb_dict = json.loads(text)
    else:
        nb_dict = injected
        text = json.dumps(injected, indent=1, ensure_ascii=False) + "\n"
    if strict_json.encode(nb_dict) is not nb_dict:  # a non-finite number: not JSON (RFC 8259)
        text = strict_json.dumps(nb_dict, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        atomic_write_text(folder / store.OUTPUT, text)
    except OSError as e:  # never `ok` without its output notebook
        return nb_dict, store.store_error(e, "write the output notebook", folder / store.OUTPUT)
    return nb_dict, None


def write_final(folder: Path, record: dict[str, Any]) -> None:
    """The final record; on a full disk a smaller one (no traceback, environment or artifacts)
    may still fit. If nothing fits the record stays ``running`` and reads as ``lost`` once this
    process is gone."""
    try:
        store.write_record(folder, record, final=True)
    except StoreError:
        error = dict(record.get("error") or {}, traceback=[])
        small = {**record, "error": error, "environment": None, "artifacts": {}, "inputs": {}}
        store.write_record(folder, small, final=True)


def _source_index(nb: Mapping[str, Any], index: int | None) -> int | None:
    """Index of an executed cell in the user's notebook (the injected cell does not count)."""
    from mlops_nb.notebook.status import source_index

    return source_index(nb, index)


def _first_error(nb: Mapping[str, Any], execution: Any = None) -> dict[str, Any] | None:
    """The first failed cell (error output, or an error reply: see ``notebook.status``)."""
    from mlops_nb.notebook.status import first_error

    return first_error(nb, getattr(execution, "error_replies", None))


def status_of(
    timeout: float | None, nb: Mapping[str, Any], execution: Any, outcome: dict[str, Any]
) -> tuple[str, dict[str, Any] | None]:
    """``(status, error)`` of a run from its execution (``papermill_adapter.Execution``): lost
    (this process's driver died), timeout, interrupted, failed (an exception, or an error in a
    cell: ``notebook.status``) or ok; ``error`` is the record's ``error`` object or None."""
    reason = execution.watch.stop_reason
    current = _source_index(nb, execution.current_cell)
    from mlops_nb.kernels import lifeline

    driver = lifeline.driver_lost()
    if driver is not None and (reason is not None or outcome.get("exception") is not None):
        return liveness.LOST, {
            "ename": liveness.LOST_ENAME,
            "evalue": driver,
            "cell_index": current,
            "traceback": [],
        }
    if reason == "timeout":
        return "timeout", {
            "ename": "Timeout",
            "evalue": f"the run exceeded its time limit of {timeout:g} s",
            "cell_index": current,
            "traceback": [],
        }
    if reason == "interrupted":
        return "interrupted", {
            "ename": "Interrupted",
            "evalue": "the run was interrupted (Ctrl-C or SIGTERM)",
            "cell_index": current,
            "traceback": [],
        }
    exc = outcome.get("exception")
    if exc is not None:
        ename = type(exc).__name__
        evalue = str(exc).strip().splitlines()[0] if str(exc).strip() else ename
        if ename == "DeadKernelError":
            evalue = "the kernel died while executing the cell (crash, os._exit or out of memory)"
        return "failed", {
            "ename": ename,
            "evalue": evalue,
            "cell_index": current,
            "traceback": [line.rstrip("\n") for line in outcome.get("traceback", [])],
        }
    error = _first_error(nb, execution)
    if error is not None:
        return "failed", error
    return "ok", None
