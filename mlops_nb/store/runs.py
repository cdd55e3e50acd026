"""The runs store on disk: one folder per run holding ``run.json`` and ``output.ipynb``.

Run folders are the source of truth. Run ids sort by time and are safe file names; a user label
(``--name``) only ever contributes a sanitized slug, so nothing can land outside the runs folder.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlops_nb import strict_json
from mlops_nb.errors import StoreError
from mlops_nb.notebook.io import atomic_write_text
from mlops_nb.store.place import default_runs_dir as default_runs_dir
from mlops_nb.store.place import no_runs_folder
from mlops_nb.store.place import resolve_runs_dir as resolve_runs_dir

RECORD = "run.json"
INDEX = "index.sqlite"  # the runs index (store.index), in the store's top folder
OUTPUT = "output.ipynb"
PARTIAL_OUTPUT = ".output.partial.ipynb"
ENVIRONMENT = "environment.json"
# Files that belong to the store, not to the run's artifacts.
STORE_FILES = frozenset({RECORD, OUTPUT, PARTIAL_OUTPUT, ENVIRONMENT, "kernel.log"})
SKIP_DIRS = frozenset({"sweeps", "pipelines"})
_ID_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}(-[A-Za-z0-9._-]+)?$")


def slug(label: str) -> str:
    """A safe file-name fragment for a label: letters, digits, ``._-``; never ``..`` or ``/``."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.")
    s = re.sub(r"\.{2,}", ".", s)
    return s[:48].strip("-.")


def new_run_id(name: str | None = None, *, now: dt.datetime | None = None) -> str:
    t = now or dt.datetime.now(dt.UTC)
    rid = t.strftime("%Y%m%dT%H%M%S.%fZ") + "-" + secrets.token_hex(3)
    s = slug(name) if name else ""
    return f"{rid}-{s}" if s else rid


def is_run_id(text: str) -> bool:
    return bool(_ID_RE.match(text))


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _store_error(e: OSError, what: str, path: Path) -> StoreError:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        why = "no space left on device. Free space or choose another folder with --runs-dir"
    elif e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = (
            "it is not writable (permission denied or read-only). Choose a writable folder with "
            "--runs-dir DIR or MLOPS_NB_RUNS_DIR"
        )
    else:
        why = f"{e.strerror or e}. Check the folder or choose another with --runs-dir"
    return StoreError(f"cannot {what} {path}: {why}.")


def create_run_folder(runs_dir: Path, run_id: str) -> Path:
    """Create ``runs_dir/run_id``; a read-only or full store is a clear ``StoreError``."""
    if not is_run_id(run_id):  # pragma: no cover - ids are made by new_run_id
        raise StoreError(f"invalid run id {run_id!r}")
    folder = runs_dir / run_id
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
    except OSError as e:
        raise _store_error(e, "create a run folder in", runs_dir) from None
    return folder


def discard_run_folder(folder: Path) -> None:
    """Remove a run folder that never got its first record (nothing of a run is in it)."""
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def write_record(folder: Path, record: dict[str, Any], *, final: bool = False) -> None:
    """Write ``run.json`` atomically (fsync'd when final)."""
    text = strict_json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n"
    try:
        atomic_write_text(folder / RECORD, text, fsync=final)
    except OSError as e:
        raise _store_error(e, "write the run record in", folder) from None


def store_error(e: OSError, what: str, path: Path) -> StoreError:
    """A one-line ``StoreError`` for an OSError met while writing ``path`` (full, read-only...)."""
    return _store_error(e, what, path)


def read_record(folder: Path) -> dict[str, Any]:
    """``run.json`` as readers should see it: a ``running`` record whose owner process is gone
    reads as ``lost`` (``mlops_nb.store.liveness``)."""
    from mlops_nb.store.liveness import resolve

    return resolve(read_raw_record(folder))


def read_raw_record(folder: Path) -> dict[str, Any]:
    """``run.json`` exactly as written."""
    try:
        with open(folder / RECORD, encoding="utf-8") as f:
            data = strict_json.decode(json.load(f))
    except FileNotFoundError:
        raise StoreError(f"{folder}: no run record ({RECORD}) here.") from None
    except (OSError, json.JSONDecodeError) as e:
        raise StoreError(f"{folder / RECORD}: unreadable run record: {e}.") from None
    if not isinstance(data, dict):
        raise StoreError(f"{folder / RECORD}: not a run record.")
    return data


def iter_run_folders(runs_dir: Path) -> Iterator[Path]:
    """Run folders in id (= time) order."""
    try:
        entries = sorted(os.scandir(runs_dir), key=lambda e: e.name)
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir() and entry.name not in SKIP_DIRS and is_run_id(entry.name):
            yield Path(entry.path)


def iter_records(runs_dir: Path) -> Iterator[dict[str, Any]]:
    for folder in iter_run_folders(runs_dir):
        try:
            yield read_record(folder)
        except StoreError:
            continue


def resolve_run(runs_dir: Path, ref: str) -> Path:
    """A run folder from an id, a unique id prefix, a unique run name or ``latest``: the rules
    and messages of ``mlops_nb.store.refs``, by listing the run folders."""
    if not runs_dir.is_dir():
        raise no_runs_folder(runs_dir)
    if ref in ("latest", "last", "-1"):
        folders = list(iter_run_folders(runs_dir))
        if not folders:
            raise StoreError(f"no runs in {runs_dir} yet.")
        return folders[-1]
    if "/" in ref or "\\" in ref or ref in (".", ".."):
        p = Path(ref)
        if (p / RECORD).is_file():
            return p
        if ref in (".", "..") or not any(c.isalnum() for c in ref):  # else a name: `exp/1`
            raise StoreError(f"{ref}: not a run folder (no {RECORD}).")
    exact = runs_dir / ref
    if is_run_id(ref) and (exact / RECORD).is_file():
        return exact
    from mlops_nb.store import refs

    refs.check_ref(ref)  # a name several runs share is refused like a shared prefix
    s = slug(ref)
    ids = refs.matching(runs_dir, ref, s, [f.name for f in iter_run_folders(runs_dir)])
    return runs_dir / refs.pick(runs_dir, ref, ids)


def ran_clean(folder: Path) -> bool:
    """Whether a run recorded ``ok`` really ran every cell it should: its output notebook shows no
    error and no cell left unexecuted after a kernel error reply (``notebook.status``). Readers
    that reuse a run (``--reuse``, a sweep resuming, a pipeline step up to date) ask this too, so
    a record written before that rule existed cannot pass a stopped run off as good."""
    from mlops_nb.notebook.status import first_error

    try:
        with open(folder / OUTPUT, encoding="utf-8") as f:
            nb = json.load(f)
    except (OSError, ValueError):
        return False  # no evidence that it ran
    return isinstance(nb, dict) and first_error(nb) is None
