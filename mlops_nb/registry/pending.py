"""Pending promotions (human in the loop), kept per alias.

A model's ``pending`` list holds requests as ``promote --require-approval`` made them: ``{"seq"
(the history entry of the request), "version", "aliases", "reason", "requested_by",
"requested_at"}``. An alias is pending in at most one request. A newer request takes over only
the aliases it names: they leave the older request, which keeps its other aliases (a ``replace``
history entry records what was taken over); ``approve``/``reject`` take one alias, several, or
all of them out of their requests. Files written before requests were split this way hold the
same shape and are read as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlops_nb.errors import StoreError
from mlops_nb.store.naming import named

Entry = Callable[..., dict[str, Any]]  # api._append: (doc, action, aliases, before, to, reason)


def listing(items: Sequence[dict[str, Any]]) -> str:
    """``v2 -> green; v1 -> challenger``: each pending alias and the version it would get."""
    return "; ".join(f"v{p['version']} -> {a}" for p in items for a in p["aliases"])


def add_request(
    doc: dict[str, Any], request: dict[str, Any], append: Entry
) -> list[dict[str, Any]]:
    """Put ``request`` (its ``seq`` is its history entry) in ``doc["pending"]``: the aliases it
    names leave the older requests, each such replacement recorded as a ``replace`` entry (made
    with ``append``), which these are."""
    replaced = settle(doc, request["aliases"], request["seq"], append, "replace")
    doc["pending"] = [*doc["pending"], request]
    return replaced


def settle(
    doc: dict[str, Any], aliases: Sequence[str], by: int, append: Entry, action: str
) -> list[dict[str, Any]]:
    """Take ``aliases`` out of the pending requests, because the history entry ``by`` took them
    over: a newer request (``action`` ``replace``) or a direct move of the alias (``supersede``:
    ``promote`` or ``rollback`` without approval, so that approving the old request later cannot
    silently undo it). Each request losing aliases gets one ``action`` entry (``request``: its
    seq, ``replaced_by``/``superseded_by``: ``by``, ``still_pending``: what it keeps); these are
    returned."""
    named = set(aliases)
    done: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    for p in doc["pending"]:
        taken = [a for a in p["aliases"] if a in named]
        rest = [a for a in p["aliases"] if a not in named]
        if rest:
            kept.append({**p, "aliases": rest})
        if taken:
            before = {a: doc["aliases"].get(a) for a in taken}
            verb = {"replace": "replaced by request"}.get(action, "superseded by entry")
            link = {"replace": "replaced_by"}.get(action, "superseded_by")
            extra = {"request": p["seq"], link: by, "still_pending": rest}
            entry = append(doc, action, taken, before, int(p["version"]), f"{verb} {by}", **extra)
            done.append(entry)
    doc["pending"] = kept
    return done


def take(
    doc: dict[str, Any], aliases: Sequence[str] | None, verb: str, *, every: bool = False
) -> list[dict[str, Any]]:
    """Take the requests to ``verb`` (approve, reject) off ``doc["pending"]``, cut to
    ``aliases`` (a request naming others keeps them, still pending). No ``aliases``: every
    request with ``every``, else the one request pending. ``StoreError`` (nothing changed) when
    an alias is not pending, nothing is, or several requests are and none was named."""
    items = doc["pending"]
    missing = [a for a in aliases or () if not any(a in p["aliases"] for p in items)]
    if missing or not items:
        what = f" for alias {missing[0]!r}" if missing else ""
        have = f" (pending: {listing(items)})" if items else ""
        raise StoreError(
            f"model {doc['name']!r} has no pending promotion{what}{have}: nothing to {verb}."
        )
    if not aliases:
        if len(items) > 1 and not every:
            cli = named("alias") == "--alias"
            which, every_ = (
                ("--alias ALIAS (repeatable)", "--all") if cli else ("alias=", "every=True")
            )
            raise StoreError(
                f"model {doc['name']!r} has {len(items)} pending requests ({listing(items)}); "
                f"say which with {which}, or {verb} them all with {every_}."
            )
        doc["pending"] = []
        return [dict(p) for p in items]
    taken, kept = [], []
    for p in items:
        mine = [a for a in p["aliases"] if a in aliases]
        rest = [a for a in p["aliases"] if a not in aliases]
        if mine:
            taken.append({**p, "aliases": mine})
        if rest:
            kept.append({**p, "aliases": rest})
    doc["pending"] = kept
    return taken


def shape_problem(items: list[Any]) -> str | None:
    """What is wrong with a model file's ``pending`` list (None: nothing)."""
    seen: set[str] = set()
    for i, p in enumerate(items):
        ok = isinstance(p, dict) and isinstance(p.get("aliases"), list) and p["aliases"]
        if not ok or not all(isinstance(a, str) for a in p["aliases"]):
            return f"pending request {i + 1} has no list of aliases"
        for key in ("seq", "version"):
            if not isinstance(p.get(key), int) or isinstance(p.get(key), bool):
                return f"pending request {i + 1} has no integer {key!r}"
        twice = seen & set(p["aliases"])
        if twice:
            return f"alias {sorted(twice)[0]!r} is pending in two requests"
        seen |= set(p["aliases"])
    return None


# What became of a request, per alias (``outcomes``), and the ones a human settled.
SETTLED = ("approve", "supersede", "by hand")


def outcomes(doc: dict[str, Any], seq: Any, to: Any, aliases: Sequence[str]) -> dict[str, str]:
    """``{alias: outcome}`` of the request ``seq`` (asking for version ``to``): ``pending``;
    the last history entry naming it for that alias (``approve``, ``reject``, ``replace``,
    ``supersede``); ``by hand`` when, not approved, the alias was later moved to ``to`` by a
    ``promote``/``rollback`` (e.g. after a rejection); else ``dropped``."""
    waiting = {a for p in doc.get("pending") or [] if p.get("seq") == seq for a in p["aliases"]}
    history = doc.get("history") or []
    ended = {a: e["action"] for e in history if e.get("request") == seq for a in e["aliases"]}
    out: dict[str, str] = {}
    for a in aliases:
        end = "pending" if a in waiting else ended.get(a, "dropped")
        later = (
            e
            for e in history
            if isinstance(seq, int) and e["seq"] > seq and a in e["aliases"] and e.get("to") == to
        )
        if end not in ("pending", *SETTLED) and any(
            e["action"] in ("promote", "rollback") for e in later
        ):
            end = "by hand"
        out[a] = end
    return out
