"""Parameter values ``registry:MODEL@ALIAS``: resolved to the version's run folder before a run.

Like ``builtin:`` data, the value names something the notebook reads; unlike it, the reference is
resolved by mlops-nb before the kernel starts, so the notebook receives a plain folder path
(holding ``model.joblib`` and ``model.json``) and the run record keeps, under ``registry``, which
version and run the alias pointed to then (lineage through the registry).

``registry:MODEL@ALIAS?`` (a trailing ``?``) is optional: it resolves to ``""`` while the model or
the alias does not exist yet (the first run of a loop has no champion).

In place of an alias, ``vN`` pins version N, as MLflow's ``models:/NAME/N`` does
(``lookup.VERSION_REF``); a version the model does not have is an error even with ``?`` (as
MLflow's "RESOURCE_DOES_NOT_EXIST": a typo, not a champion yet to come), and ``v01`` is refused
naming ``v1``. ``latest`` is refused: a step reading it would go stale whenever a gate
downstream of it registers a version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from mlops_nb.errors import MlopsNbError, ParameterError
from mlops_nb.registry.lookup import VERSION_REF, pinned_version, version_ref

PREFIX = "registry:"
_REF_RE = re.compile(r"^registry:([^@?]+)@([^@?]+)(\?)?$")


class Ref(NamedTuple):
    model: str
    alias: str
    optional: bool


def parse(value: Any, *, where: str = "") -> Ref | None:
    """The reference in ``value``, None if it is not a ``registry:`` string; bad syntax raises."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return None
    m = _REF_RE.match(value)
    if not m:
        raise ParameterError(
            f"{where}{value!r} is not a registry reference: write registry:MODEL@ALIAS "
            "(e.g. registry:rare_events@champion) or registry:MODEL@vN for version N, with a "
            "trailing '?' if it may be unset."
        )
    if m.group(2) == "latest":
        raise ParameterError(
            f"{where}{value!r}: 'latest' is not supported in a registry reference; pin a version "
            f"(registry:{m.group(1)}@v1) or name an alias (registry:{m.group(1)}@champion)."
        )
    try:
        version_ref(m.group(2))
    except MlopsNbError as e:
        raise ParameterError(f"{where}{value!r}: {e.message}") from None
    return Ref(m.group(1), m.group(2), bool(m.group(3)))


def resolve_params(
    params: Mapping[str, Any], runs_dir: Path, *, source: str = ""
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(params with every reference replaced by its run folder, ``{param: resolution}``).

    Raises ``ParameterError`` naming the parameter for an unknown model or alias, or a changed
    artifact (unless the reference is optional, which then becomes ``""``).
    """
    from mlops_nb.registry import api

    out = dict(params)
    resolved: dict[str, Any] = {}
    for name, value in params.items():
        where = f"{source}: parameter {name}: " if source else f"parameter {name}: "
        ref = parse(value, where=where)
        if ref is None:
            continue
        try:
            r = api.resolve(runs_dir, ref.model, ref.alias)
        except MlopsNbError as e:
            if ref.optional and _unset(runs_dir, ref):
                out[name] = ""
                resolved[name] = {
                    "ref": value,
                    "model": ref.model,
                    "alias": ref.alias,
                    "version": None,
                }
                continue
            raise ParameterError(f"{where}{e.message}") from None
        out[name] = str(r.folder)
        resolved[name] = {"ref": value, **r.to_record()}
    return out, resolved


def _unset(runs_dir: Path, ref: Ref) -> bool:
    """Whether an optional reference may stand for nothing: its model or alias is not there yet
    (a pinned version the model lacks is not "unset")."""
    from mlops_nb.registry import store

    doc = store.read_model(runs_dir, ref.model)
    if doc is None:
        return True
    return not VERSION_REF.match(ref.alias) and ref.alias not in doc["aliases"]


def pinned(
    params: Mapping[str, Any], runs_dir: Path, *, ignore: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """``params`` with each reference annotated by the version it points to now, e.g.
    ``registry:m@live (v3)``: a pipeline step is stale when an alias it reads moved.

    Moves requested by ``ignore`` (the gates downstream of the step) do not count: the step's
    result is what led to them, and running it again against its own outcome is a loop.
    """
    from mlops_nb.registry import store

    out = dict(params)
    for name, value in params.items():
        try:
            ref = parse(value)
            doc = store.read_model(runs_dir, ref.model) if ref else None
        except MlopsNbError:
            continue  # reported when the step runs
        if ref is not None:
            out[name] = f"{value} ({_pinned_to(doc, ref.alias, ignore)})"
    return out


def _pinned_to(doc: Mapping[str, Any] | None, alias: str, ignore: frozenset[str]) -> str:
    """``vN``, ``unset``, or ``no version N`` (a pin the model lacks: the step will fail)."""
    if doc is not None and VERSION_REF.match(alias):
        return alias if pinned_version(dict(doc), alias) else f"no version {alias[1:]}"
    version = doc and _before(doc, alias, ignore)
    return f"v{version}" if version else "unset"


def _before(doc: Mapping[str, Any], alias: str, ignore: frozenset[str]) -> Any:
    """The alias's version, stepping back over the moves requested by ``ignore``."""
    version = doc["aliases"].get(alias)
    for e in reversed(doc["history"]):
        if alias not in e.get("aliases", []) or e.get("action") not in ("promote", "approve"):
            continue
        if e.get("to") != version or e.get("requested_by") not in ignore:
            break
        version = e.get("from", {}).get(alias)
    return version
