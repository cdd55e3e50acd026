"""Reading the model registry: a model's document, its versions and aliases, and
``MODEL@ALIAS`` resolved to a run folder whose artifact still has its registered sha256.

Writes (promote, approve, reject, rollback) are in ``registry.api``; the file format and its lock
in ``registry.store``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_nb.errors import StoreError
from mlops_nb.registry import store as rs
from mlops_nb.store.hints import command

VERSION_REF = re.compile(r"^v([0-9]+)$")  # stands for version N in MODEL@vN, not an alias
# What int() would read as well: leading zeros (v01), the digits of other scripts.
_LOOSE_VERSION = re.compile(r"^v(\d+)$")


@dataclass(frozen=True)
class Resolved:
    """A ``MODEL@ALIAS`` reference resolved to a version and the run folder holding its artifact."""

    model: str
    alias: str
    version: int
    run_id: str
    folder: Path
    artifact: str
    sha256: str

    def to_record(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "alias": self.alias,
            "version": self.version,
            "run_id": self.run_id,
            "artifact": self.artifact,
            "sha256": self.sha256,
        }


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load(runs_dir: Path, name: str) -> dict[str, Any]:
    """The model's document; an unknown model is a ``StoreError`` listing the known ones."""
    doc = rs.read_model(runs_dir, name)
    if doc is None:
        known = rs.model_names(runs_dir)
        listed = f"registered models: {', '.join(known)}" if known else "no model is registered yet"
        raise StoreError(
            f"unknown model {name!r} in {rs.registry_dir(runs_dir)} ({listed}); "
            f"register one with `{command('promote', name, 'RUN', '--alias', 'ALIAS', runs_dir=runs_dir)}`."
        )
    return doc


def version(doc: dict[str, Any], number: int) -> dict[str, Any]:
    for v in doc["versions"]:
        if v["version"] == number:
            return dict(v)
    count = len(doc["versions"])
    have = {0: "no version yet", 1: "its one version is v1"}.get(count, f"versions v1-v{count}")
    raise StoreError(f"model {doc['name']!r} has no version {number} ({have}).")


def alias_version(doc: dict[str, Any], alias: str, *, runs_dir: Path | None = None) -> int:
    """The version ``alias`` points to; an unset alias is a ``StoreError`` listing the set ones
    (its hint names ``runs_dir``, the store ``doc`` was read from, as ``store.hints`` says)."""
    rs.check_alias(alias)
    if alias not in doc["aliases"]:
        have = ", ".join(f"{a}=v{n}" for a, n in sorted(doc["aliases"].items())) or "none"
        raise StoreError(
            f"model {doc['name']!r} has no alias {alias!r} (aliases: {have}); "
            f"set it with `{command('promote', doc['name'], 'RUN', '--alias', alias, runs_dir=runs_dir)}`."
        )
    return int(doc["aliases"][alias])


def version_ref(ref: str) -> int | None:
    """N when ``ref`` is ``vN`` (a version, as MLflow's ``models:/NAME/N``), None for an alias.

    A number written otherwise (``v01``, ``v007``, non-ASCII digits) raises ``StoreError`` naming
    the one way to write it: read as version 1, ``v01`` would be a second name for ``v1``.
    """
    m = _LOOSE_VERSION.match(ref)
    if m is None:
        return None
    number = int(m[1])
    if ref != f"v{number}":
        raise StoreError(f"{ref!r} is not a version number as written: write v{number}.")
    return number


def pinned_version(doc: dict[str, Any], ref: str) -> int | None:
    """N when ``ref`` is ``vN`` and the model has version N (MLflow's ``models:/NAME/N``), else
    None (an alias, or no such version)."""
    m = VERSION_REF.match(ref)
    number = int(m[1]) if m else None
    return number if any(int(v["version"]) == number for v in doc["versions"]) else None


def resolve(runs_dir: Path, name: str, alias: str) -> Resolved:
    """``MODEL@ALIAS`` → its version's run folder, after checking the artifact's sha256.
    ``alias`` may be ``vN`` instead: version N, pinned."""
    doc = load(runs_dir, name)
    if (number := version_ref(alias)) is not None:
        v = version(doc, number)
    else:
        v = version(doc, alias_version(doc, alias, runs_dir=runs_dir))
    folder = Path(runs_dir) / v["run_id"]
    artifact = folder / v["artifact"]
    if not artifact.is_file():
        raise StoreError(
            f"{name}@{alias} is version {v['version']} (run {v['run_id']}), but its artifact "
            f"{artifact} is gone; promote another run to {alias!r}."
        )
    if sha256_of(artifact) != v["sha256"]:
        raise StoreError(
            f"{name}@{alias}: the artifact {artifact} changed since version {v['version']} was "
            "registered (sha256 differs); register the run again or restore the file."
        )
    return Resolved(
        name,
        alias,
        int(v["version"]),
        str(v["run_id"]),
        folder.resolve(),
        str(v["artifact"]),
        str(v["sha256"]),
    )
