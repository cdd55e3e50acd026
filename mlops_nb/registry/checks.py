"""What is wrong with a model's registry file, key by key (``registry.store.read_model``).

A file of the right shape with wrong contents (a version that is not a mapping, an alias pointing
at text or at a version the model does not have, a history entry without its aliases) was read
as it is: commands failed with an internal error, or wrote over it. Every key that commands act
on is checked as ``registry.api`` writes it; keys they do not read are left alone.
"""

from __future__ import annotations

from typing import Any

from mlops_nb.registry.pending import shape_problem as pending_problem

_TOP = {"versions": list, "aliases": dict, "pending": list, "history": list}
_VERSION = {"run_id": str, "artifact": str, "sha256": str}
_ENTRY = {"at": str, "by": str, "action": str, "aliases": list, "from": dict}


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
    return None


def _aliases_problem(aliases: dict[str, Any], count: int) -> str | None:
    for alias, number in aliases.items():
        if not _number(number) or not 1 <= number <= count:
            return f"alias {alias!r} points at {number!r}, not a version of the model (1-{count})"
    return None


def _pending_versions(pending: list[dict[str, Any]], count: int) -> str | None:
    for p in pending:
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
        if e.get("to") is not None and not _number(e["to"]):
            return f"history entry {e['seq']} moves to {e['to']!r}, not a version"
    return None
