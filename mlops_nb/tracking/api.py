"""``mlops_nb.export``: send selected runs, with their sweep/pipeline hierarchy, to a tracking system.

Idempotent: the ``exports`` table (``mlops_nb.store.exports``) says what already went where, and
an unchanged entity is not sent again. An export cut off mid-way is completed on the next
invocation: the exporter finds what it had sent (MLflow: by tag) and finishes it instead of
creating a second copy. Exports of one runs store hold its export lock, so concurrent exports do
not duplicate. The run folders are only read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb.errors import EXIT_FAILED, MlopsNbError, UsageError
from mlops_nb.results.filter import FIELDS, RunFilter
from mlops_nb.store import exports, index
from mlops_nb.store import runs as store
from mlops_nb.store.names import check_selection
from mlops_nb.tracking import model, registry
from mlops_nb.tracking.model import Entity

log = logging.getLogger(__name__)


class PartialExport(MlopsNbError):
    """Some entities were exported, then the destination failed: run the export again."""

    exit_code = EXIT_FAILED


@dataclass(frozen=True)
class Entry:
    """What happened to one entity: ``created``, ``completed`` (finished what a killed export
    left), ``updated``, ``unchanged``, ``new``/``update`` (dry run) or ``failed``."""

    kind: str
    key: str
    action: str
    remote_id: str | None = None
    detail: str = ""


@dataclass
class ExportResult:
    """The outcome of one export: one ``Entry`` per entity, parents first."""

    target: str
    entries: list[Entry] = field(default_factory=list)
    not_final: list[str] = field(default_factory=list)  # runs still running: not exported
    error: str | None = None

    def count(self, *actions: str, kind: str | None = None) -> int:
        return sum(1 for e in self.entries if e.action in actions and kind in (None, e.kind))

    @property
    def ok(self) -> bool:
        return self.error is None


def export(
    target: str,
    runs: Sequence[str] | None = None,
    *,
    runs_dir: str | os.PathLike[str] | None = None,
    filter: RunFilter | None = None,
    all_runs: bool = False,
    dry_run: bool = False,
    raise_partial: bool = True,
    **options: Any,
) -> ExportResult:
    """Export runs to ``target`` (``mlflow``, ``tensorboard``, ``wandb`` or a plugin's name).

    Runs are chosen like ``collect`` chooses them (``runs`` ids/names/prefixes, and ``filter``, a
    ``RunFilter``, or its keywords ``notebook``, ``sweep``, ``pipeline``, ``status``, ``where``
    among ``options``), or ``all_runs=True``; runs still running are left out. The other
    ``options`` are the target's: ``tracking_uri``, ``experiment``, ``artifacts``
    (mlflow), ``logdir`` (tensorboard), ``project``, ``mode``, ``dir`` (wandb).
    ``dry_run`` only says what would be sent (from the exports table; no SDK needed).

    Raises ``UsageError`` (bad selection or option), ``MissingExtraError`` (the target's extra is
    not installed), ``ExportError`` (destination unreachable or refusing; nothing sent) and
    ``PartialExport`` (some entities sent, then a failure; ``raise_partial=False`` returns the
    result with ``error`` set instead).
    """
    chosen = RunFilter.of(filter, **{k: options.pop(k) for k in FIELDS if k in options})
    rd = store.resolve_runs_dir(runs_dir)
    exporter = registry.make(target, runs_dir=rd, **options)
    rows = select(rd, runs, chosen, all_runs=all_runs)
    result = ExportResult(target)
    result.not_final = [str(r["id"]) for r in rows if r.get("status") not in model.FINAL]
    ents = model.entities(rd, [r for r in rows if r.get("status") in model.FINAL])
    if dry_run:
        return _dry_run(exporter, rd, ents, result)
    if not ents:
        return result
    if exports.exists(rd):  # nothing new: answered from the table alone, no SDK imported
        with exports.ExportsTable(rd) as table:
            done = _done(exporter, table, ents)
        if all(e.key in done and done[e.key].fingerprint == e.fingerprint for e in ents):
            result.entries = [
                Entry(e.kind, e.key, "unchanged", done[e.key].remote_id) for e in ents
            ]
            return result
    exporter.connect(ents)
    try:
        with exports.locked(rd), exports.ExportsTable(rd) as table:
            _send(exporter, table, ents, result)
    finally:
        exporter.close()
    if result.error and raise_partial:
        raise PartialExport(result.error)
    return result


def _done(
    exporter: registry.Exporter, table: exports.ExportsTable | None, ents: Sequence[Entity]
) -> dict[str, exports.Exported]:
    """What the exports table says is already at each entity's destination."""
    if table is None:
        return {}
    by_dest: dict[str, dict[str, exports.Exported]] = {}
    out: dict[str, exports.Exported] = {}
    for e in ents:
        dest = exporter.destination(e)
        if dest not in by_dest:
            by_dest[dest] = table.done(exporter.name, dest)
        found = by_dest[dest].get(e.key)
        if found is not None:
            out[e.key] = found
    return out


def _dry_run(
    exporter: registry.Exporter, rd: Path, ents: Sequence[Entity], result: ExportResult
) -> ExportResult:
    if exports.exists(rd):
        with exports.ExportsTable(rd) as table:
            done = _done(exporter, table, ents)
    else:
        done = {}
    for e in ents:
        prev = done.get(e.key)
        action = (
            "new"
            if prev is None
            else "unchanged"
            if prev.fingerprint == e.fingerprint
            else "update"
        )
        where = exporter.destination(e)
        result.entries.append(Entry(e.kind, e.key, action, prev.remote_id if prev else None, where))
    return result


def _send(
    exporter: registry.Exporter,
    table: exports.ExportsTable,
    ents: Sequence[Entity],
    result: ExportResult,
) -> None:
    done = _done(exporter, table, ents)
    todo = [e for e in ents if e.key not in done or done[e.key].fingerprint != e.fingerprint]
    remote = {k: v.remote_id for k, v in done.items()}
    if todo:
        exporter.begin(todo)
    pending = {e.key for e in todo}
    for e in ents:
        if e.key not in pending:
            result.entries.append(Entry(e.kind, e.key, "unchanged", remote[e.key]))
            continue
        parent = remote.get(e.parent) if e.parent else None
        if e.parent and parent is None:
            result.entries.append(
                Entry(e.kind, e.key, "failed", None, "its parent was not exported")
            )
            continue
        if result.error:
            result.entries.append(Entry(e.kind, e.key, "failed", None, "not attempted"))
            continue
        try:
            rid, action = exporter.put(e, parent)
            if e.key in done and action == "completed":
                action = "updated"  # known here, changed since (a sweep that got more runs)
        except MlopsNbError as err:
            result.error = _partial_line(exporter.name, e, err, result)
            result.entries.append(Entry(e.kind, e.key, "failed", None, err.message))
            continue
        table.remember(
            exporter.name,
            exporter.destination(e),
            e.key,
            run_id=e.run_id,
            remote_id=rid,
            fingerprint=e.fingerprint,
        )
        remote[e.key] = rid
        result.entries.append(Entry(e.kind, e.key, action, rid))


def _partial_line(target: str, e: Entity, err: MlopsNbError, result: ExportResult) -> str:
    sent = result.count("created", "completed", "updated", kind="run")
    return (
        f"export to {target} stopped at {e.key} after {sent} run(s): {err.message} "
        "Run the same command again to finish: what was sent is not sent twice."
    )


def select(
    rd: Path, runs: Sequence[str] | None, chosen: RunFilter, *, all_runs: bool
) -> list[dict[str, Any]]:
    """Index rows of the chosen runs (RUN refs and filters narrow each other), in id order.
    Raises ``UsageError`` (no selection; a sweep, pipeline or notebook the store does not have;
    a sweep prefix of several sweeps: ``store.names.check_selection``)."""
    if not (runs or chosen or all_runs):
        raise UsageError(
            "say which runs to export: RUN ids or names, --sweep, --pipeline, --notebook, "
            "--status, --where, or --all for every run."
        )
    sql, args = chosen.sql()
    if runs:
        ids = sorted({store.resolve_run(rd, r).name for r in runs})
        cond = f"id IN ({', '.join('?' * len(ids))})"
        sql, args = (f"{sql} AND {cond}" if sql else cond), [*args, *ids]
    rows = index.query_rows(rd, sql, args)
    if chosen.where:
        from mlops_nb.results.collect import collect

        keep = set(collect(rd, where=chosen.where)["id"].tolist())
        rows = [r for r in rows if r["id"] in keep]
    check_selection(rd, chosen, len(rows))  # an unknown name or a prefix of several sweeps
    return rows


SHOW_EACH = 30  # more changed entities than this: only failures are listed one by one


def summary(result: ExportResult, *, each: bool = False) -> list[str]:
    """Lines for the user: one per entity sent (all of them with ``each``, else when there are
    at most ``SHOW_EACH``; failures always), then the counts and the runs left out."""
    lines = []
    changed = [e for e in result.entries if e.action != "unchanged"]
    for e in changed:
        if each or len(changed) <= SHOW_EACH or e.action == "failed":
            lines.append(
                f"{e.action:<10} {e.kind:<8} {e.key.partition(':')[2]}  {e.detail or e.remote_id or ''}".rstrip()
            )
    totals = ", ".join(
        f"{n} {a}"
        for a in (
            "created",
            "completed",
            "updated",
            "grouped",
            "unchanged",
            "new",
            "update",
            "failed",
        )
        if (n := result.count(a))
    )
    lines.append(f"{result.target}: {totals or 'nothing to export'}")
    if result.not_final:
        lines.append(f"{len(result.not_final)} run(s) still running were left out.")
    return lines


def entries_by_key(result: ExportResult) -> Mapping[str, Entry]:
    return {e.key: e for e in result.entries}
