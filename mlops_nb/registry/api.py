"""Model registry operations: promote, approve, reject, rollback, resolve.

Every change reads the model's file, checks the request, and writes the new state under the
registry lock in one step; a refused request (unknown model, alias or run, a failed run, no model
artifact, nothing pending) raises ``StoreError`` before anything is written. Aliases follow
MLflow's registry (``set_registered_model_alias``; ``models:/name@alias``), stages are not used
(deprecated there).
"""

from __future__ import annotations

import getpass
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_nb.errors import StoreError
from mlops_nb.registry import pending as requests
from mlops_nb.registry import store as rs
from mlops_nb.registry.lookup import Resolved as Resolved
from mlops_nb.registry.lookup import alias_version as alias_version
from mlops_nb.registry.lookup import load as load
from mlops_nb.registry.lookup import resolve as resolve
from mlops_nb.registry.lookup import sha256_of as sha256_of
from mlops_nb.registry.lookup import version as _version
from mlops_nb.registry.lookup import version_ref
from mlops_nb.store import runs as runs_store
from mlops_nb.store.hints import command
from mlops_nb.store.naming import named, option

DEFAULT_ARTIFACT = "model.joblib"
# The action of a promotion that moved nothing (its aliases were there): not in the history.
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Change:
    """What one command did: the history entry it appended (``action``, ``aliases``, ``to``...)
    and the ones it appended ``also`` (a request's replacements; approving several requests)."""

    model: str
    entry: dict[str, Any]
    also: tuple[dict[str, Any], ...] = ()

    def line(self) -> str:
        """One line per history entry (``mm: pending approval green: none -> v2``)."""
        return "\n".join(self._line(e) for e in (self.entry, *self.also))

    def _line(self, e: dict[str, Any]) -> str:
        if e["action"] in ("replace", "supersede"):
            rest = ", ".join(f"{a} -> {_v(e['to'])}" for a in e.get("still_pending", []))
            verb = "replaces" if e["action"] == "replace" else "settles (supersedes)"
            return (
                f"{self.model}: {verb} pending request {e['request']}: "
                + ", ".join(f"{a} -> {_v(e['to'])}" for a in e["aliases"])
                + (f" (still pending: {rest})" if rest else "")
            )
        if e["action"] == UNCHANGED:
            line = f"{self.model}: {', '.join(e['aliases'])} already at v{e['to']}; nothing "
            return line + (f"to request{e.get('waiting', '')}" if e.get("request") else "changed")
        moves = ", ".join(
            f"{a}: {_v(e['from'].get(a))} -> {_v(e.get('to'))}" for a in e.get("aliases", [])
        )
        what = {"request": "pending approval", "reject": "rejected"}.get(e["action"], e["action"])
        return f"{self.model}: {what} {moves}".rstrip()


def _v(version: Any) -> str:
    return f"v{version}" if version is not None else "none"


def who() -> str:
    """The user recorded in the history: ``MLOPS_NB_USER``, else the login name."""
    try:
        return os.environ.get("MLOPS_NB_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _is_version_ref(runs_dir: Path, run_ref: str) -> bool:
    """``@ALIAS`` or ``vN`` (unless a run folder has that very name); ``v01`` is refused."""
    if run_ref.startswith("@"):
        return True
    return not (Path(runs_dir) / run_ref).exists() and version_ref(run_ref) is not None


def _promotable(runs_dir: Path, run_ref: str, artifact: str) -> tuple[dict[str, Any], Path]:
    """(the run's record, its artifact path); ``StoreError`` if the run cannot be promoted."""
    if Path(artifact).is_absolute() or ".." in Path(artifact).parts or not artifact.strip():
        raise StoreError(
            f"{option('artifact', artifact)}: name a file inside the run folder "
            "(e.g. model.joblib)."
        )
    folder = runs_store.resolve_run(Path(runs_dir), run_ref)
    rec = runs_store.read_record(folder)
    if rec.get("status") != "ok":
        raise StoreError(
            f"run {rec.get('id')} is {rec.get('status')}; only a successful run can be promoted."
        )
    path = folder / artifact
    if not path.is_file():
        files = sorted(p.name for p in folder.iterdir() if p.name not in runs_store.STORE_FILES)
        raise StoreError(
            f"run {rec.get('id')} has no model artifact {artifact!r} (its files: "
            f"{', '.join(files) or 'none'}); name the file with {named('artifact')} or promote a "
            "training run."
        )
    return rec, path


def _new_version(runs_dir: Path, doc: dict[str, Any], run_ref: str, artifact: str) -> int:
    """The version for ``run_ref`` (``@ALIAS``, ``vN``, or a run): existing, or a new one."""
    if run_ref.startswith("@"):
        return alias_version(doc, run_ref[1:], runs_dir=runs_dir)
    if _is_version_ref(runs_dir, run_ref):
        return int(_version(doc, int(run_ref[1:]))["version"])
    rec, path = _promotable(runs_dir, run_ref, artifact)
    digest = sha256_of(path)
    for v in doc["versions"]:
        if v["run_id"] == rec["id"] and v["artifact"] == artifact and v["sha256"] == digest:
            return int(v["version"])
    number = len(doc["versions"]) + 1
    doc["versions"].append(
        {
            "version": number,
            "run_id": rec["id"],
            "artifact": artifact,
            "sha256": digest,
            "size": path.stat().st_size,
            "registered_at": runs_store.utc_now(),
            "registered_by": who(),
            "notebook": (rec.get("notebook") or {}).get("path"),
            "scraps": {k: v for k, v in (rec.get("scraps") or {}).items() if _finite(v)},
        }
    )
    _append(doc, "register", [], {}, number, None)
    return number


def _finite(value: Any) -> bool:
    """A scalar that strict JSON can hold (no NaN/Infinity)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (int, str, bool))


def _append(
    doc: dict[str, Any],
    action: str,
    aliases: Sequence[str],
    before: dict[str, int | None],
    to: int | None,
    reason: str | None,
    **extra: Any,
) -> dict[str, Any]:
    entry = {
        "seq": len(doc["history"]) + 1,
        "at": runs_store.utc_now(),
        "by": who(),
        "action": action,
        "aliases": list(aliases),
        "from": dict(before),
        "to": to,
        "reason": reason,
        **extra,
    }
    doc["history"].append(entry)
    return entry


def _set_aliases(
    doc: dict[str, Any],
    aliases: Sequence[str],
    version: int,
    action: str,
    reason: str | None,
    **extra: Any,
) -> dict[str, Any]:
    before = {a: doc["aliases"].get(a) for a in aliases}
    for a in aliases:
        doc["aliases"][a] = version
    return _append(doc, action, aliases, before, version, reason, **extra)


def promote(
    runs_dir: Path,
    name: str,
    run_ref: str,
    aliases: Sequence[str],
    *,
    reason: str | None = None,
    require_approval: bool = False,
    artifact: str = DEFAULT_ARTIFACT,
    requested_by: str | None = None,
) -> Change:
    """Point ``aliases`` at the version of ``run_ref`` (registering it first if new).

    ``run_ref``: a run (id, prefix, name, ``latest``), ``@ALIAS`` (e.g. ``@green`` to switch
    ``live`` to it: blue/green) or ``vN``. With ``require_approval`` the change is stored as
    pending until ``approve``; a newer request takes over only the aliases it names from the
    older ones (``pending.add_request``: a ``replace`` history entry each, in ``Change.also``).
    When every alias already points at that version, nothing is written and the entry's action is
    ``UNCHANGED`` (as ``git tag -f`` leaves a tag in place), with or without ``require_approval``;
    a request for those aliases that is pending stays (the line names it and how to reject it).
    Raises ``StoreError`` for invalid names, unknown runs, unsuccessful runs, missing artifacts.
    """
    rs.check_model_name(name)
    if not aliases:
        example = "--alias champion" if named("alias") == "--alias" else "aliases=['champion']"
        raise StoreError(f"give at least one alias (e.g. {example}).")
    for a in aliases:
        rs.check_alias(a)
    # refuse before the registry folder is made
    if not _is_version_ref(runs_dir, run_ref):
        _promotable(runs_dir, run_ref, artifact)
    elif rs.read_model(runs_dir, name) is None:
        load(runs_dir, name)  # `@green` or `v1` of a model not registered: say that
    with rs.locked(runs_dir):
        doc = rs.read_model(runs_dir, name) or rs.empty_model(name)
        version = _new_version(runs_dir, doc, run_ref, artifact)
        if all(doc["aliases"].get(a) == version for a in aliases):
            return Change(name, _unchanged(runs_dir, doc, aliases, version, require_approval))
        replaced: list[dict[str, Any]] = []
        if require_approval:
            entry, replaced = _request(doc, aliases, version, reason, requested_by)
        else:
            entry = _set_aliases(
                doc, aliases, version, "promote", reason, requested_by=requested_by
            )
            replaced = requests.settle(doc, aliases, entry["seq"], _append, "supersede")
        rs.write_model(runs_dir, doc)
    return Change(name, entry, tuple(replaced))


def _request(
    doc: dict[str, Any],
    aliases: Sequence[str],
    version: int,
    reason: str | None,
    requested_by: str | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Record a request for approval: (its history entry, the ``replace`` entries it made)."""
    before = {a: doc["aliases"].get(a) for a in aliases}
    entry = _append(doc, "request", aliases, before, version, reason, requested_by=requested_by)
    request = {
        "seq": entry["seq"],
        "version": version,
        "aliases": list(aliases),
        "reason": reason,
        "requested_by": requested_by or entry["by"],
        "requested_at": entry["at"],
    }
    return entry, requests.add_request(doc, request, _append)


def _unchanged(
    runs_dir: Path, doc: dict[str, Any], aliases: Sequence[str], version: int, request: bool
) -> dict[str, Any]:
    """The entry of a promotion that moves nothing (not written to the history). A request in
    place asks for nothing; one for those aliases that waits is named with how to drop it."""
    here = dict.fromkeys(aliases, version)
    entry: dict[str, Any] = {"action": UNCHANGED, "aliases": list(aliases), "from": here}
    entry |= {"to": version, "request": request}
    waiting = [
        {**p, "aliases": [a for a in p["aliases"] if a in aliases]}
        for p in (doc["pending"] if request else [])
        if set(p["aliases"]) & set(aliases)
    ]
    if waiting:
        named_ = [w for p in waiting for a in p["aliases"] for w in ("--alias", a)]
        reject = command("reject", doc["name"], *named_, runs_dir=runs_dir)
        entry["waiting"] = f" (still pending: {requests.listing(waiting)}; drop it with `{reject}`)"
    return entry


def _decide(
    runs_dir: Path,
    name: str,
    aliases: Sequence[str] | None,
    verb: str,
    apply: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
    every: bool,
) -> Change:
    """Take the pending requests (cut to ``aliases``, see ``pending.take``) off the model's
    document and record the history entry ``apply(doc, request)`` makes of each, in one write
    under the registry lock."""
    with rs.locked(runs_dir):
        doc = load(runs_dir, name)
        for a in aliases or ():
            rs.check_alias(a)
        entries = [apply(doc, p) for p in requests.take(doc, aliases, verb, every=every)]
        rs.write_model(runs_dir, doc)
    return Change(name, entries[0], tuple(entries[1:]))


def _aliases(alias: str | Sequence[str] | None) -> list[str]:
    return [alias] if isinstance(alias, str) else list(alias or ())


def approve(
    runs_dir: Path,
    name: str,
    *,
    alias: str | Sequence[str] | None = None,
    reason: str | None = None,
    every: bool = False,
) -> Change:
    """Apply pending promotions (human in the loop): those of ``alias`` (one or several), else
    every one with ``every``, else the one request pending. ``StoreError`` when nothing (or not
    that alias) is pending, or several requests are and none was named; nothing is changed."""

    def apply(doc: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        return _set_aliases(
            doc,
            p["aliases"],
            int(p["version"]),
            "approve",
            reason or p.get("reason"),
            request=p["seq"],
            requested_by=p.get("requested_by"),
        )

    return _decide(runs_dir, name, _aliases(alias), "approve", apply, every)


def reject(
    runs_dir: Path,
    name: str,
    *,
    alias: str | Sequence[str] | None = None,
    reason: str | None = None,
    every: bool = False,
) -> Change:
    """Discard pending promotions (recorded in the history; aliases do not move), chosen as
    ``approve`` chooses them."""

    def apply(doc: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        before = {a: doc["aliases"].get(a) for a in p["aliases"]}
        return _append(
            doc, "reject", p["aliases"], before, int(p["version"]), reason, request=p["seq"]
        )

    return _decide(runs_dir, name, _aliases(alias), "reject", apply, every)


def alias_stack(doc: dict[str, Any], alias: str) -> list[int]:
    """The versions ``alias`` went through, a rollback undoing the move before it."""
    stack: list[int] = []
    for e in doc["history"]:
        if alias not in e.get("aliases", []):
            continue
        if e["action"] in ("promote", "approve") and e.get("to") is not None:
            if not stack or stack[-1] != e["to"]:
                stack.append(int(e["to"]))
        elif e["action"] == "rollback" and stack:
            stack.pop()
    return stack


def rollback(runs_dir: Path, name: str, alias: str, *, reason: str | None = None) -> Change:
    """Point ``alias`` back at its previous version; ``StoreError`` when it has none."""
    with rs.locked(runs_dir):
        doc = load(runs_dir, name)
        current = alias_version(doc, alias, runs_dir=runs_dir)
        stack = alias_stack(doc, alias)
        if len(stack) < 2:
            raise StoreError(
                f"{name}@{alias} (v{current}) has no previous version to roll back to; "
                "promote another run with "
                f"`{command('promote', name, 'RUN', '--alias', alias, runs_dir=runs_dir)}`."
            )
        before: dict[str, int | None] = {alias: current}
        doc["aliases"][alias] = stack[-2]
        entry = _append(doc, "rollback", [alias], before, stack[-2], reason)
        settled = requests.settle(doc, [alias], entry["seq"], _append, "supersede")
        rs.write_model(runs_dir, doc)
    return Change(name, entry, tuple(settled))


def all_models(runs_dir: Path) -> list[dict[str, Any]]:
    """Every registered model's document (``registry list``), by name."""
    return [load(runs_dir, n) for n in rs.model_names(runs_dir)]


def pending(runs_dir: Path, names: Sequence[str] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """``(model, pending promotion)`` pairs, for ``pipeline status`` and ``registry list``."""
    out: list[tuple[str, dict[str, Any]]] = []
    for n in names if names is not None else rs.model_names(runs_dir):
        doc = rs.read_model(runs_dir, n)
        for p in (doc or {}).get("pending", []):
            out.append((n, p))
    return out
