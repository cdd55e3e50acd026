"""The sweep record, ``runs/sweeps/<sweep_id>.json``: a typed, frozen ``SweepRecord``, written
atomically and always valid JSON.

The sweep id is derived from the notebook (path and code) and the parameter sets, so invoking the
same sweep again finds the same record and resumes it.

The JSON shape is what every release wrote (README, "Resume, retries, failures"), plus
``schema_version``: ``to_json`` writes the core keys in their historical order, then the
extensions, which can never overwrite a core key (``ValueError``), like the run record's
(``mlops_nb.store.record``). Reading migrates: a record without ``schema_version`` (version 0,
the 0.x releases) reads as version 1; a newer record keeps the keys this release does not know as
extensions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb import strict_json
from mlops_nb.errors import StoreError
from mlops_nb.notebook.io import atomic_write_text
from mlops_nb.store import runs as store
from mlops_nb.store.record import OWNER_KEYS
from mlops_nb.sweep import reconcile

SWEEPS_DIR = "sweeps"
SCHEMA_VERSION = 1
PENDING = "pending"
# Top-level keys in the order the sweep record has always written them; ``error`` only on a
# ``lost`` sweep as readers see it (``store.liveness.resolve``).
CORE_KEYS = (
    "id",
    "notebook",
    "status",
    *OWNER_KEYS,
    "created_at",
    "started_at",
    "ended_at",
    "duration_s",
    "invocations",
    "executor",
    "workers",
    "options",
    "source",
    "counts",
    "runs",
    "error",
    "schema_version",
)
_RESERVED = frozenset(CORE_KEYS)
_NUMBER = (int, float)
# What each core key holds (``None`` allowed where listed); a record of version 1 or newer has
# every key but the owner's and ``error`` (``to_json`` writes them all).
_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "notebook": (Mapping,),
    "status": (str,),
    "host": (str, type(None)),
    "pid": (int, type(None)),
    "boot_id": (str, type(None)),
    "pid_started": (int, type(None)),
    "created_at": (str, type(None)),
    "started_at": (str, type(None)),
    "ended_at": (str, type(None)),
    "duration_s": (*_NUMBER, type(None)),
    "invocations": (int,),
    "executor": (str, type(None)),
    "workers": (int, type(None)),
    "options": (Mapping,),
    "source": (Mapping,),
    "counts": (Mapping,),
    "runs": (list,),
    "error": (Mapping, type(None)),
    "schema_version": (int,),
}
_OPTIONAL = frozenset({"error", *OWNER_KEYS})
_OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "timeout_s": (*_NUMBER, type(None)),
    "retries": (int,),
    "force": (bool,),
    "fail_fast": (bool,),
    "preload": (list,),
    "prewarm": (bool,),
    "fork": (bool,),
}
_ENTRY_TYPES: dict[str, tuple[type, ...]] = {
    "params": (Mapping, type(None)),
    "status": (str, type(None)),
    "run_id": (str, type(None)),
    "error": (str, type(None)),
    "resumed": (bool, type(None)),
    "duration_s": (*_NUMBER, type(None)),
}


def check_types(data: Mapping[str, Any], types: Mapping[str, tuple[type, ...]], where: str) -> None:
    """Raise ``ValueError`` naming the first key of ``data`` whose value is not of its type
    (``bool`` is not taken for a number)."""
    for key, kinds in types.items():
        value = data.get(key)
        if key in data and not (
            isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool))
        ):
            expected = " or ".join(dict.fromkeys(_kind(k) for k in kinds))
            raise ValueError(f"{where}{key!r} is {_kind(type(value))}, not {expected}")


def _kind(t: type) -> str:
    """How a JSON reader names the type ``t``."""
    for base, word in ((bool, "true/false"), (type(None), "null"), (str, "text"), (list, "a list")):
        if issubclass(t, base):
            return word
    if issubclass(t, (int, float)):
        return "a number"
    return "an object" if t is Mapping or issubclass(t, Mapping) else t.__name__


@dataclass(frozen=True)
class Options:
    """The options a sweep ran with, as recorded (``options`` in the record)."""

    timeout_s: float | None = None
    retries: int = 0
    force: bool = False
    fail_fast: bool = False
    preload: tuple[str, ...] = ()
    prewarm: bool = True
    fork: bool = True  # True only when kernels were forked (it needs prewarm)

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "preload": list(self.preload)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Options:
        """Raises ``ValueError`` when an option has the wrong type (a missing one: its default)."""
        check_types(data, _OPTION_TYPES, "options: ")
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "preload" in values:
            given = values["preload"]
            values["preload"] = tuple(map(str, given)) if isinstance(given, list) else ()
        return cls(**values)


@dataclass(frozen=True)
class SweepEntry:
    """One parameter set of the sweep (an item of ``runs``): its latest run and every attempt.

    ``error`` is one line (``ValueError: boom in cell 2``); ``resumed`` says the run was done by
    an earlier invocation; ``duration_s`` is None until the set has run.
    """

    index: int
    params: Mapping[str, Any]
    key: str
    status: str = PENDING
    run_id: str | None = None
    attempts: tuple[str, ...] = ()
    error: str | None = None
    resumed: bool = False
    duration_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        # Written field by field, not with dataclasses.asdict (a deep copy): the driver writes
        # every set about once a second.
        return {
            "index": self.index,
            "params": dict(self.params),
            "key": self.key,
            "status": self.status,
            "run_id": self.run_id,
            "attempts": list(self.attempts),
            "error": self.error,
            "resumed": self.resumed,
            "duration_s": self.duration_s,
        }

    @classmethod
    def from_json(cls, data: Any) -> SweepEntry:
        """Raises ``ValueError`` when ``data`` is not an entry (no ``index`` or ``key``)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("index"), int):
            raise ValueError(f"not a sweep entry: {str(data)[:80]}")
        if not isinstance(data.get("key"), str):
            raise ValueError(f"not a sweep entry: set {data['index']} has no key")
        check_types(data, _ENTRY_TYPES, f"set {data['index']}: ")
        attempts = data.get("attempts")
        return cls(
            index=data["index"],
            params=dict(data.get("params") or {}),
            key=data["key"],
            status=str(data.get("status") or PENDING),
            run_id=data.get("run_id"),
            attempts=tuple(a for a in attempts if isinstance(a, str))
            if isinstance(attempts, list)
            else (),
            error=data.get("error"),
            resumed=bool(data.get("resumed")),
            duration_s=data.get("duration_s"),
        )


@dataclass(frozen=True)
class SweepRecord:
    """One sweep's record. ``owner`` holds the driver's ``host``/``pid``/``boot_id``/
    ``pid_started`` (flat in the JSON); ``extensions`` every non-core key. ``counts`` is derived
    from ``runs``. Change a record with ``dataclasses.replace``; nothing mutates it in place.
    """

    id: str
    notebook: Mapping[str, Any]
    status: str
    owner: Mapping[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float | None = None
    invocations: int = 0
    executor: str | None = None
    workers: int | None = None
    options: Options = field(default_factory=Options)
    source: Mapping[str, Any] = field(default_factory=dict)
    runs: tuple[SweepEntry, ...] = ()
    error: Mapping[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = sorted(k for k in self.extensions if k in _RESERVED)
        if clash:
            raise ValueError(f"sweep record extensions cannot overwrite core fields: {clash}")
        stray = sorted(set(self.owner) - set(OWNER_KEYS))
        if stray:
            raise ValueError(f"not owner fields: {stray}")

    @property
    def counts(self) -> dict[str, int]:
        """How many sets have each status."""
        return counts(self.runs)

    def with_extensions(self, **extra: Any) -> SweepRecord:
        """A copy with these extensions added (or replaced)."""
        return dataclasses.replace(self, extensions={**self.extensions, **extra})

    def to_json(self) -> dict[str, Any]:
        """The record as ``runs/sweeps/<id>.json`` holds it (a new dict)."""
        built = {
            **self.owner,
            "options": self.options.to_json(),
            "counts": self.counts,
            "runs": [e.to_json() for e in self.runs],
        }
        absent = set(OWNER_KEYS) - set(self.owner)
        if self.error is None:
            absent.add("error")
        out = {
            k: built[k] if k in built else getattr(self, k) for k in CORE_KEYS if k not in absent
        }
        return {**out, **self.extensions}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SweepRecord:
        """A record from the JSON object, migrated to ``SCHEMA_VERSION``.

        Raises ``ValueError`` when it is not a sweep record: no ``id`` or ``status``, a core key
        missing from a record of version 1 or newer, a value of the wrong type, or a malformed
        entry in ``runs``.
        """
        data = migrate(data)
        missing = [k for k in ("id", "status") if not isinstance(data.get(k), str)]
        if missing:
            raise ValueError(f"not a sweep record: no {', '.join(missing)}")
        absent = [k for k in CORE_KEYS if k not in data and k not in _OPTIONAL]
        if absent:
            raise ValueError(f"no {', '.join(repr(k) for k in absent)}")
        check_types(data, _TYPES, "")
        simple = {f.name for f in dataclasses.fields(cls)} - {
            "owner",
            "options",
            "runs",
            "extensions",
        }
        return cls(
            **{k: v for k, v in data.items() if k in simple},
            owner={k: data[k] for k in OWNER_KEYS if k in data},
            options=Options.from_json(data["options"]),
            runs=tuple(SweepEntry.from_json(e) for e in data["runs"]),
            extensions={k: v for k, v in data.items() if k not in _RESERVED},
        )


def migrate(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` upgraded to ``SCHEMA_VERSION`` (a new dict; ``data`` is not changed).

    Version 0 (no ``schema_version``: the 0.x releases) has the same keys, except that a set
    that has not run has no ``duration_s``; collections that are missing or not of their type
    (hand-edited records) get their empty value, other missing keys None.
    """
    out = dict(data)
    version = out.get("schema_version", 0)
    if isinstance(version, int) and version < 1:
        for key, kind in (("notebook", dict), ("options", dict), ("source", dict), ("runs", list)):
            if not isinstance(out.get(key), kind):
                out[key] = kind()
        if not isinstance(out.get("invocations"), int):
            out["invocations"] = 0
        out.setdefault("counts", {})
        for key in ("created_at", "started_at", "ended_at", "duration_s", "executor", "workers"):
            out.setdefault(key, None)
        out["schema_version"] = 1
    return out


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


def lock_path(runs_dir: Path, sid: str) -> Path:
    return runs_dir / SWEEPS_DIR / f"{sid}.lock"


def load(runs_dir: Path, sid: str) -> SweepRecord | None:
    """The sweep record ``sid``, or None if there is none. A ``running`` record whose driver is
    gone reads as ``lost`` (``store.liveness``). Raises ``StoreError`` when it is unreadable or
    not a sweep record."""
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

    try:
        rec = SweepRecord.from_json(resolve(data, "sweep"))
    except (ValueError, TypeError) as e:
        raise StoreError(f"{path}: not a sweep record ({e}). Delete it to start over.") from None
    completed: SweepRecord = reconcile.complete(runs_dir, rec)
    return completed


def read(runs_dir: Path, sid: str) -> dict[str, Any] | None:
    """``load`` as the JSON object (the shape ``sweep --json`` prints), or None."""
    rec = load(runs_dir, sid)
    return None if rec is None else rec.to_json()


def write(runs_dir: Path, rec: SweepRecord) -> Path:
    """Write ``rec`` atomically; raises ``StoreError`` when the store cannot take it."""
    path = record_path(runs_dir, rec.id)
    text = strict_json.dumps(rec.to_json(), indent=2, ensure_ascii=False, default=str) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError as e:
        raise store.store_error(e, "write the sweep record", path) from None
    return path


def counts(entries: Iterable[SweepEntry]) -> dict[str, int]:
    """How many of ``entries`` have each status."""
    out: dict[str, int] = {}
    for e in entries:
        out[e.status] = out.get(e.status, 0) + 1
    return out
