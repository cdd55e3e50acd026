"""The sweep record: ``runs/sweeps/<sweep_id>.json``, written atomically, always valid JSON.

The sweep id is derived from the notebook (path and code) and the parameter sets, so invoking the
same sweep again finds the same record and resumes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_nb import strict_json
from mlops_nb.errors import StoreError
from mlops_nb.notebook.io import atomic_write_text
from mlops_nb.store import runs as store

SWEEPS_DIR = "sweeps"


def sweep_id(notebook: Path, code_sha256: str, sets: Sequence[Mapping[str, Any]]) -> str:
    """``<notebook stem>-<12 hex>``: same notebook, same code, same sets → same id."""
    blob = json.dumps(
        {"notebook": str(notebook.resolve()), "code": code_sha256, "sets": list(sets)},
        sort_keys=True,
        default=str,
    )
    digest = hashlib.sha256(blob.encode()).hexdigest()[:12]
    stem = store.slug(notebook.stem) or "notebook"
    return f"{stem}-{digest}"


def record_path(runs_dir: Path, sid: str) -> Path:
    return runs_dir / SWEEPS_DIR / f"{sid}.json"


def read(runs_dir: Path, sid: str) -> dict[str, Any] | None:
    path = record_path(runs_dir, sid)
    try:
        with open(path, encoding="utf-8") as f:
            data = strict_json.decode(json.load(f))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as e:
        raise StoreError(
            f"{path}: unreadable sweep record: {e}. Delete it to start over."
        ) from None
    if not isinstance(data, dict):
        return None
    from mlops_nb.store.liveness import resolve

    return resolve(data, "sweep")  # `running` with its driver gone reads as `lost`


def lock_path(runs_dir: Path, sid: str) -> Path:
    return runs_dir / SWEEPS_DIR / f"{sid}.lock"


def write(runs_dir: Path, record: Mapping[str, Any]) -> Path:
    path = record_path(runs_dir, str(record["id"]))
    text = strict_json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError as e:
        raise store.store_error(e, "write the sweep record", path) from None
    return path


def counts(entries: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in entries:
        status = str(e.get("status") or "pending")
        out[status] = out.get(status, 0) + 1
    return out
