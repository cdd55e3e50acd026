"""The run record (``run.json``) as a typed, frozen value: ``RunRecord``.

The JSON shape is the contract in the README's run-record table (DESIGN.md, "Run record"):
``to_json`` writes exactly those keys, plus ``schema_version`` and the extensions. Core fields are
attributes; everything a feature adds to a run (``registry``, ``rerun_of``, ``exports``,
``output_cut``, ``errors``, ``output_dir``...) lives in ``extensions`` and is written at the top
level beside the core keys, as before, but can never overwrite one: an extension named like a core
key is refused (``ValueError``; ``runner.prepare`` turns a caller's into a ``UsageError``).

Reading is tolerant (``from_json``): a record written before ``schema_version`` existed (version
0, the 0.x releases) is migrated on read; missing core keys get their empty values. A record from
a newer release keeps the keys this one does not know as extensions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1
# Owner fields (``store.liveness.owner``) are written flat, at the top level of the record.
OWNER_KEYS = ("host", "pid", "boot_id", "pid_started")
# Core keys in the order ``run.json`` has always written them (README's record table).
CORE_KEYS = (
    "id",
    "name",
    "notebook",
    "params",
    "status",
    "started_at",
    "ended_at",
    "duration_s",
    "error",
    "scraps",
    "artifacts",
    "inputs",
    "inputs_hash_s",
    "git",
    "environment",
    "resources",
    "key",
    "sweep_id",
    "pipeline",
    "timeout_s",
    "kernel",
    *OWNER_KEYS,
    "mlops_nb_version",
    "schema_version",
)
_RESERVED = frozenset(CORE_KEYS)


def reserved_keys(keys: Mapping[str, Any]) -> list[str]:
    """The keys of ``keys`` that name a core field of the run record (sorted)."""
    return sorted(k for k in keys if k in _RESERVED)


@dataclass(frozen=True)
class RunRecord:
    """One run's record. Field names and meanings are the README's run-record table.

    ``owner`` holds the writer's ``host``/``pid``/``boot_id``/``pid_started`` (flat in the JSON);
    ``extensions`` holds every non-core key. Change a record with ``dataclasses.replace`` or
    ``with_extensions``; nothing mutates a record in place.
    """

    id: str
    notebook: Mapping[str, Any]
    params: Mapping[str, Any]
    status: str
    name: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float | None = None
    error: Mapping[str, Any] | None = None
    scraps: Mapping[str, Any] = field(default_factory=dict)
    artifacts: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, Any] = field(default_factory=dict)
    inputs_hash_s: float | None = None
    git: Mapping[str, Any] | None = None
    environment: Mapping[str, Any] | None = None
    resources: Mapping[str, Any] = field(
        default_factory=lambda: {"peak_rss_bytes": None, "cpu_seconds": None}
    )
    key: str | None = None
    sweep_id: str | None = None
    pipeline: Mapping[str, Any] | None = None
    timeout_s: float | None = None
    kernel: str | None = None
    owner: Mapping[str, Any] = field(default_factory=dict)
    mlops_nb_version: str | None = None
    schema_version: int = SCHEMA_VERSION
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = reserved_keys(self.extensions)
        if clash:
            raise ValueError(f"run record extensions cannot overwrite core fields: {clash}")
        stray = sorted(set(self.owner) - set(OWNER_KEYS))
        if stray:
            raise ValueError(f"not owner fields: {stray}")

    def with_extensions(self, **extra: Any) -> RunRecord:
        """A copy with these extensions added (or replaced)."""
        return dataclasses.replace(self, extensions={**self.extensions, **extra})

    def to_json(self) -> dict[str, Any]:
        """The record as ``run.json`` holds it (a new dict; the caller may change it)."""
        out: dict[str, Any] = {}
        for key in CORE_KEYS:
            if key in OWNER_KEYS:
                if key in self.owner:
                    out[key] = self.owner[key]
            else:
                out[key] = getattr(self, key)
        out.update(self.extensions)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        """A record from ``run.json``'s object, migrated to ``SCHEMA_VERSION``.

        Raises ``ValueError`` if ``id``, ``notebook`` or ``status`` is missing (not a run record).
        """
        data = migrate(data)
        missing = [k for k in ("id", "notebook", "status") if k not in data]
        if missing:
            raise ValueError(f"not a run record: no {', '.join(missing)}")
        fields = {f.name for f in dataclasses.fields(cls)} - {"owner", "extensions"}
        core = {k: v for k, v in data.items() if k in fields}
        return cls(
            **core,
            owner={k: data[k] for k in OWNER_KEYS if k in data},
            extensions={k: v for k, v in data.items() if k not in _RESERVED},
        )


def migrate(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` upgraded to ``SCHEMA_VERSION`` (a new dict; ``data`` is not changed).

    Version 0 (no ``schema_version``: every release before it) has the same keys; a core key it
    lacks (``params``, ``scraps``... in hand-made or truncated records) gets its empty value.
    """
    out = dict(data)
    version = out.get("schema_version", 0)
    if isinstance(version, int) and version < 1:
        for key in ("params", "scraps", "artifacts", "inputs"):
            if not isinstance(out.get(key), dict):
                out[key] = {}
        out["schema_version"] = 1
    return out
