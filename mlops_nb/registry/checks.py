"""What is wrong with a model's registry file, key by key (``registry.store.read_model``).

A file of the right shape with wrong contents (a version that is not a mapping, an alias pointing
at text or at a version the model does not have, a history entry without its aliases) was read
as it is: commands failed with an internal error, or wrote over it. Every key that commands act
on is checked as ``registry.api`` writes it; keys they do not read are left alone.
"""

from __future__ import annotations

import re
from typing import Any

from mlops_nb.registry.pending import shape_problem as pending_problem

_TOP = {"versions": list, "aliases": dict, "pending": list, "history": list}
_VERSION = {"run_id": str, "artifact": str, "sha256": str}
_ENTRY = {"at": str, "by": str, "action": str, "aliases": list, "from": dict}
# The history entries ``registry.api`` writes (``supersede``: a direct promotion or rollback
# settled a pending request for that alias).
ACTIONS = (
    "register",
    "promote",
    "request",
    "approve",
    "reject",
    "replace",
    "supersede",
    "rollback",
)
_ALIAS_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def alias_ok(alias: str) -> bool:
    """A lowercase name MLflow would also accept, not reserved (``latest``, ``v<N>``)."""
    return bool(_ALIAS_RE.match(alias)) and not _RESERVED_ALIAS.match(alias)


def _inside(path: str, *, one_part: bool) -> bool:
    """A relative path that stays in its folder (no ``..``, not absolute), one name if
    ``one_part``: a record's ``run_id`` (under runs/) and ``artifact`` (in the run folder)."""
    parts = path.replace("\\", "/").split("/")
    if not path or path.startswith(("/", "\\")) or (one_part and len(parts) > 1):
        return False
    return all(p not in ("", ".", "..") for p in parts) and ":" not in parts[0]


def _number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def doc_problem(doc: Any, name: str) -> str | None:
    """None when ``doc`` is a model document for ``name`` as the registry writes it, else what
    is wrong (one phrase, e.g. ``version 2 has no 'sha256'``)."""
    if not isinstance(doc, dict):
        return "not a JSON object"
    for key, kind in _TOP.items():
        if not isinstance(doc.get(key), kind):
            return f"'{key}' is missing or not a {kind.__name__}"
    if doc.get("name") != name:
        return f"it names model {doc.get('name')!r}, not {name!r}"
    count = len(doc["versions"])
    return (
        _versions_problem(doc["versions"])
        or _aliases_problem(doc["aliases"], count)
        or pending_problem(doc["pending"])
        or _pending_versions(doc["pending"], count)
        or _history_problem(doc["history"])
    )


def _versions_problem(versions: list[Any]) -> str | None:
    for i, v in enumerate(versions, 1):
        if not isinstance(v, dict) or v.get("version") != i or not _number(v.get("version")):
            return f"version entry {i} is not version {i}"
        for key, kind in _VERSION.items():
            if not isinstance(v.get(key), kind):
                return f"version {i} has no {key!r}"
        if not _SHA256.match(v["sha256"]):
            return f"version {i}'s sha256 {v['sha256']!r} is not 64 hex digits"
        for key in ("run_id", "artifact"):
            if not _inside(v[key], one_part=key == "run_id"):
                return f"version {i}'s {key} {v[key]!r} leaves its folder (or is empty)"
    return None


def _aliases_problem(aliases: dict[str, Any], count: int) -> str | None:
    for alias, number in aliases.items():
        if not alias_ok(alias):
            return f"alias {alias!r} is not a valid alias (a lowercase name)"
        if not _number(number) or not 1 <= number <= count:
            return f"alias {alias!r} points at {number!r}, not a version of the model (1-{count})"
    return None


def _pending_versions(pending: list[dict[str, Any]], count: int) -> str | None:
    for p in pending:
        bad = [a for a in p["aliases"] if not alias_ok(a)]
        if bad:
            return f"pending request {p['seq']} names {bad[0]!r}, not a valid alias"
        if not 1 <= p["version"] <= count:
            return (
                f"pending request {p['seq']} asks for v{p['version']}, not a version of the model"
            )
    return None


def _history_problem(history: list[Any]) -> str | None:
    for i, e in enumerate(history, 1):
        if not isinstance(e, dict) or not _number(e.get("seq")):
            return f"history entry {i} has no number ('seq')"
        for key, kind in _ENTRY.items():
            if not isinstance(e.get(key), kind):
                return f"history entry {e['seq']} has no {key!r}"
        if not all(isinstance(a, str) for a in e["aliases"]):
            return f"history entry {e['seq']} names an alias that is not text"
        if e["action"] not in ACTIONS:
            return (
                f"history entry {e['seq']} has action {e['action']!r}, "
                f"not one of {', '.join(ACTIONS)}"
            )
        if e.get("to") is not None and not _number(e["to"]):
            return f"history entry {e['seq']} moves to {e['to']!r}, not a version"
    return None
