"""What the pipeline last did: per step, the fingerprint parts and the run that realised them.

Stored in ``<runs>/pipelines/<name>/state.json`` (atomically written); each ``pipeline run`` also
leaves ``<runs>/pipelines/<name>/runs/<id>.json`` naming the step runs it used (lineage).
A lock file keeps two ``pipeline run`` of the same pipeline from interleaving.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from mlops_nb import strict_json
from mlops_nb.errors import StoreError
from mlops_nb.notebook.io import atomic_write_text
from mlops_nb.pipeline.fingerprint import Parts

DAMAGED = ".damaged"  # state.json moved aside by `pipeline run --force`


@dataclass(frozen=True)
class StepState:
    fingerprint: str
    parts: Parts
    run_id: str | None  # the run handed downstream (a sweep: the selected run)
    run_folder: str | None
    status: str  # "ok" or "failed"/"timeout"/... of the last attempt
    consumed: dict[str, str | None]  # upstream step -> run id it consumed (None: a report)
    marked_done: bool = False
    sweep_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **{f.name: getattr(self, f.name) for f in fields(self)},
            "parts": self.parts.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StepState:
        return cls(
            fingerprint=str(d["fingerprint"]),
            parts=Parts.from_dict(d.get("parts", {})),
            run_id=d.get("run_id"),
            run_folder=d.get("run_folder"),
            status=str(d.get("status", "ok")),
            consumed=dict(d.get("consumed") or {}),
            marked_done=bool(d.get("marked_done")),
            sweep_id=d.get("sweep_id"),
        )


# The keys ``StepState.to_dict`` writes (every version has written them all), and their types.
_TEXT, _TEXT_OR_NONE, _MAPPING = (str,), (str, type(None)), (dict,)
_STEP_KEYS: dict[str, tuple[type, ...]] = {
    "fingerprint": _TEXT,
    "parts": _MAPPING,
    "run_id": _TEXT_OR_NONE,
    "run_folder": _TEXT_OR_NONE,
    "status": _TEXT,
    "consumed": _MAPPING,
    "marked_done": (bool,),
    "sweep_id": _TEXT_OR_NONE,
}
# The statuses a step's last attempt ends in: a run's final status (``store.runs``; never
# ``running``, which is written before the run ends) or a failed gate/sweep/report.
STATUSES = ("ok", "failed", "timeout", "interrupted", "lost")
# Parts.to_dict: ``dvc`` only when the step reads DVC-tracked data.
_PART_KEYS = ("cells", "params", "upstream", "inputs", "modules", "extra")
_HASHES = ("upstream", "inputs", "modules", "dvc")  # name -> digest (text)


def _kind(types: tuple[type, ...]) -> str:
    return " or ".join(
        {str: "a string", dict: "a mapping", bool: "true or false"}.get(t, "null") for t in types
    )


def step_problem(d: Any) -> str | None:
    """What is wrong with one step's record in ``state.json`` (None: nothing), key by key, as
    ``StepState.to_dict`` writes it; keys it does not know are left alone (a newer version's)."""
    if not isinstance(d, dict):
        return "is not a mapping"
    for key, types in _STEP_KEYS.items():
        if key not in d:
            return f"has no {key!r}"
        if not isinstance(d[key], types) or (bool not in types and isinstance(d[key], bool)):
            return f"{key!r} is not {_kind(types)} ({d[key]!r})"
    if not d["fingerprint"] or not d["status"]:
        return f"{'fingerprint' if not d['fingerprint'] else 'status'!r} is empty"
    if d["status"] not in STATUSES:
        return f"'status' is {d['status']!r}, not one of {', '.join(STATUSES)}"
    if not all(isinstance(v, _TEXT_OR_NONE) for v in d["consumed"].values()):
        return "'consumed' maps a step to something else than a run id"
    return _parts_problem(d["parts"])


def _parts_problem(parts: dict[str, Any]) -> str | None:
    for key in (*_PART_KEYS, "dvc"):
        if key == "dvc" and key not in parts:
            continue
        want = list if key == "cells" else dict
        if not isinstance(parts.get(key), want):
            return f"parts {key!r} is missing or not a {'list' if want is list else 'mapping'}"
    if not all(isinstance(c, str) for c in parts["cells"]):
        return "parts 'cells' holds something else than cell hashes"
    for key in _HASHES:
        if not all(isinstance(v, str) for v in parts.get(key, {}).values()):
            return f"parts {key!r} maps a name to something else than a hash"
    return None


class StateStore:
    def __init__(self, runs_dir: Path, name: str) -> None:
        self.dir = runs_dir / "pipelines" / name
        self.file = self.dir / "state.json"

    def load(self, *, start_over: bool = False) -> dict[str, StepState]:
        """``{step: StepState}``; ``{}`` when the pipeline never ran (no file).

        A file that cannot be read, or is not the state this module writes (truncated by a full
        disk, an editor, a bad merge; a record of a step with a key missing or of the wrong type,
        ``step_problem``), raises ``StoreError`` naming it: read as "never run", the next
        ``pipeline run`` would run every step again and re-promote through auto gates. With
        ``start_over`` (``pipeline run --force``: every step runs again) such a file is moved
        aside to ``state.json.damaged`` and the state is empty. Records of steps the pipeline
        file no longer has (removed, renamed) are read like the others and not used.
        """
        try:
            return self._load()
        except StoreError:
            if not start_over or not self.file.exists():
                raise
        try:
            os.replace(self.file, self.file.with_name(self.file.name + DAMAGED))
        except OSError as e:
            raise StoreError(
                f"cannot move the damaged pipeline state {self.file} aside: {e.strerror}."
            ) from None
        return {}

    def _load(self) -> dict[str, StepState]:
        try:
            text = self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as e:
            raise self._damaged(getattr(e, "strerror", None) or str(e)) from None
        try:
            data = strict_json.loads(text)
        except ValueError as e:
            raise self._damaged(f"not valid JSON ({e})") from None
        steps = data.get("steps") if isinstance(data, dict) else None
        if not isinstance(steps, dict):
            raise self._damaged("not a mapping with 'steps'")
        for name, d in steps.items():
            problem = step_problem(d)
            if problem:
                raise self._damaged(f"step {name!r} {problem}")
        return {name: StepState.from_dict(d) for name, d in steps.items()}

    def _damaged(self, why: str) -> StoreError:
        return StoreError(
            f"damaged pipeline state {self.file}: {why}; nothing was run. Restore it (from a "
            "backup or version control), run every step again with `pipeline run --force` (the "
            f"file is then kept as {self.file.name}{DAMAGED}), or delete it to start over."
        )

    def save(self, states: dict[str, StepState]) -> None:
        self._mkdir()
        data = {"steps": {k: v.to_dict() for k, v in states.items()}}
        text = strict_json.dumps(data, indent=1, default=str)
        try:
            atomic_write_text(self.file, text + "\n", fsync=True)
        except OSError as e:
            raise StoreError(f"cannot write pipeline state {self.file}: {e.strerror}.") from None

    def save_run(self, run_id: str, data: dict[str, Any]) -> Path:
        self._mkdir()
        (self.dir / "runs").mkdir(exist_ok=True)
        path = self.dir / "runs" / f"{run_id}.json"
        try:
            atomic_write_text(path, strict_json.dumps(data, indent=1, default=str) + "\n")
        except OSError as e:
            raise StoreError(
                f"cannot write the pipeline run record {path}: {e.strerror}."
            ) from None
        return path

    def _mkdir(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot write pipeline state in {self.dir}: {e.strerror}.") from None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self._mkdir()
        fd = os.open(self.dir / ".lock", os.O_CREAT | os.O_RDWR, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EACCES):
                    raise StoreError(
                        f"another `mlops-nb pipeline run` is running this pipeline "
                        f"(lock {self.dir / '.lock'}); wait for it to finish."
                    ) from None
                raise
            yield
        finally:
            os.close(fd)
