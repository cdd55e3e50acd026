"""What an export sends: the selected runs with their hierarchy, as ``Entity`` values.

A tracking system shows runs in a tree: pipeline invocation → sweep → run (MLflow parent/child
runs, TensorBoard folders, W&B groups). Each selected run becomes a ``run`` entity; a run of a
sweep gets a ``sweep`` parent, a run of a pipeline a ``pipeline`` (invocation) parent, and a sweep
inside a pipeline hangs under its invocation. A parent's status and times are those of *all* its
runs in the store (not only the selected ones): it starts with the first, ends with the last, is
``ok`` only when every run is, ``failed`` when one failed or was lost, ``running`` while one still
runs.
Entities come parents first, so a parent always exists remotely before its children.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb.store import index
from mlops_nb.store import runs as store

# ``lost``: the process driving the run died (``mlops_nb.store.liveness``); the run is over.
FINAL = frozenset({"ok", "failed", "timeout", "interrupted", "lost"})


@dataclass(frozen=True)
class Entity:
    """One thing to export. ``key`` is stable across exports (``run:<id>``, ``sweep:<id>@<inv>``,
    ``pipeline:<invocation id>``); ``parent`` is the key of its parent entity or None."""

    kind: str  # "pipeline" | "sweep" | "run"
    key: str
    parent: str | None
    name: str
    group: str  # the experiment / project it belongs to: pipeline name, else notebook stem
    status: str  # mlops-nb status: ok, failed, timeout, interrupted, lost, running
    started_at: str | None
    ended_at: str | None
    run_id: str | None = None  # the mlops-nb run id (runs only)
    folder: Path | None = None  # the run folder (runs only)
    labels: Mapping[str, str] = field(default_factory=dict)  # ids that say what it is

    @property
    def fingerprint(self) -> str:
        """What was exported: a change means the remote copy needs an update."""
        return f"{self.status}|{self.started_at}|{self.ended_at}|{len(self.labels)}"

    def record(self) -> dict[str, Any]:
        """The run record (runs only)."""
        assert self.folder is not None
        return store.read_record(self.folder)


def _group(row: Mapping[str, Any], pipe: Mapping[str, Any] | None) -> str:
    if pipe and pipe.get("name"):
        return str(pipe["name"])
    return Path(str(row.get("notebook") or "notebook")).stem or "notebook"


def _pipe(row: Mapping[str, Any]) -> dict[str, Any] | None:
    text = row.get("pipeline")
    value = json.loads(text) if isinstance(text, str) and text else None
    return value if isinstance(value, dict) else None


def _sweep_key(sid: str, invocation: str | None) -> str:
    return f"sweep:{sid}@{invocation or ''}"


def _aggregate(rows: Sequence[Mapping[str, Any]]) -> tuple[str, str | None, str | None]:
    statuses = {str(r.get("status")) for r in rows}
    if "running" in statuses or not statuses:
        status = "running"
    elif statuses == {"ok"}:
        status = "ok"
    elif statuses & {"failed", "lost"}:
        status = "failed"
    else:
        status = "interrupted"
    starts = [str(r["started_at"]) for r in rows if r.get("started_at")]
    ends = [str(e) for r in rows if (e := r.get("ended_at") or _lost_at(r))]
    end = max(ends) if ends and status != "running" else None
    return status, min(starts) if starts else None, end


def _lost_at(row: Mapping[str, Any]) -> str | None:
    """When a lost run not yet written down as lost was last heard of: its record's last write
    (ISO 8601 UTC, like ``ended_at``). None for any other run."""
    mtime = row.get("record_mtime_ns")
    if row.get("status") != "lost" or not isinstance(mtime, int):
        return None
    at = dt.datetime.fromtimestamp(mtime / 1e9, dt.UTC)
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def entities(runs_dir: Path, rows: Iterable[Mapping[str, Any]]) -> list[Entity]:
    """Parents first, then the runs (index rows), each run after its parents."""
    runs: list[Entity] = []
    sweeps: dict[str, tuple[str, str | None, str]] = {}  # key -> (sweep id, invocation, group)
    pipes: dict[str, tuple[str, str]] = {}  # invocation -> (pipeline name, group)
    for row in rows:
        pipe = _pipe(row)
        group = _group(row, pipe)
        invocation = str(pipe["run_id"]) if pipe and pipe.get("run_id") else None
        sid = row.get("sweep_id")
        parent = None
        if invocation:
            pipes[invocation] = (str(pipe.get("name") if pipe else ""), group)
            parent = f"pipeline:{invocation}"
        if sid:
            parent = _sweep_key(str(sid), invocation)
            sweeps[parent] = (str(sid), invocation, group)
        labels = {"run_id": str(row["id"])}
        if sid:
            labels["sweep_id"] = str(sid)
        if pipe:
            labels.update(
                pipeline=str(pipe.get("name") or ""),
                pipeline_run_id=invocation or "",
                step=str(pipe.get("step") or ""),
            )
        runs.append(
            Entity(
                kind="run",
                key=f"run:{row['id']}",
                parent=parent,
                name=str(row["id"]),
                group=group,
                status=str(row.get("status")),
                started_at=row.get("started_at"),
                ended_at=row.get("ended_at") or _lost_at(row),
                run_id=str(row["id"]),
                folder=Path(runs_dir) / str(row["id"]),
                labels=labels,
            )
        )
    return [*_pipeline_entities(runs_dir, pipes), *_sweep_entities(runs_dir, sweeps), *runs]


def _pipeline_entities(runs_dir: Path, pipes: Mapping[str, tuple[str, str]]) -> list[Entity]:
    if not pipes:
        return []
    ids = sorted(pipes)
    rows = index.query_rows(
        runs_dir,
        f"json_extract(pipeline, '$.run_id') IN ({', '.join('?' * len(ids))})",
        ids,
    )
    by_inv: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        pipe = _pipe(r) or {}
        by_inv.setdefault(str(pipe.get("run_id")), []).append(r)
    out = []
    for inv in ids:
        name, group = pipes[inv]
        status, start, end = _aggregate(by_inv.get(inv, []))
        labels = {"pipeline": name, "pipeline_run_id": inv}
        out.append(
            Entity(
                "pipeline",
                f"pipeline:{inv}",
                None,
                inv,
                group,
                status,
                start,
                end,
                None,
                None,
                labels,
            )
        )
    return out


def _sweep_entities(
    runs_dir: Path, sweeps: Mapping[str, tuple[str, str | None, str]]
) -> list[Entity]:
    if not sweeps:
        return []
    sids = sorted({s for s, _, _ in sweeps.values()})
    rows = index.query_rows(runs_dir, f"sweep_id IN ({', '.join('?' * len(sids))})", sids)
    by_key: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        pipe = _pipe(r)
        inv = str(pipe["run_id"]) if pipe and pipe.get("run_id") else None
        by_key.setdefault(_sweep_key(str(r["sweep_id"]), inv), []).append(r)
    out = []
    for key in sorted(sweeps):
        sid, inv, group = sweeps[key]
        members = by_key.get(key, [])
        status, start, end = _aggregate(members)
        labels = {"sweep_id": sid, "notebook": str(members[0]["notebook"]) if members else ""}
        if inv:
            labels["pipeline_run_id"] = inv
        parent = f"pipeline:{inv}" if inv else None
        out.append(Entity("sweep", key, parent, sid, group, status, start, end, None, None, labels))
    return out
