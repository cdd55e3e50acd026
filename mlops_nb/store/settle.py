"""Writing lost runs down: a ``running`` record whose owner is gone (``store.liveness``) is
rewritten as ``lost`` by the next sweep or pipeline that resumes the store."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from mlops_nb.store import index
from mlops_nb.store import runs as store
from mlops_nb.store.liveness import LOST, resolve


def settle(folder: Path, partial: str, output: str) -> bool:
    """Write a lost run down as ``lost`` (its partial output notebook becomes its output).

    Returns True if the folder was settled. Nothing happens when the store is not writable: the
    readers still show the run as lost.
    """
    try:
        raw = store.read_raw_record(folder)
    except Exception:  # unreadable: nothing to settle
        return False
    seen = resolve(raw)
    if raw.get("status") == LOST and (folder / output).is_file():
        with contextlib.suppress(OSError):  # written by a worker whose driver died mid-save
            (folder / partial).unlink()
    if seen.get("status") != LOST or raw.get("status") != "running":
        return False
    seen["ended_at"] = seen.get("ended_at") or store.utc_now()
    try:
        if (folder / partial).is_file() and not (folder / output).exists():
            os.replace(folder / partial, folder / output)
        store.write_record(folder, seen, final=True)
    except Exception:  # read-only or full: readers keep showing it as lost
        return False
    return True


def settle_all(runs_dir: Path) -> int:
    """Settle every lost run of the store (see ``settle``); the number settled."""
    if not runs_dir.is_dir() or not index.writable(runs_dir):
        return 0
    rows = index.query_rows(runs_dir, "status = ?", (LOST,))
    return sum(settle(runs_dir / str(r["id"]), store.PARTIAL_OUTPUT, store.OUTPUT) for r in rows)
