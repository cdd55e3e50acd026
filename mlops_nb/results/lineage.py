"""Lineage of a run: the upstream runs it consumed, back to the raw data and their hashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_nb.errors import StoreError
from mlops_nb.store import runs as store
from mlops_nb.store.gates import GATE_FILE, read_decision


def _data_refs(params: dict[str, Any]) -> list[str]:
    return [
        f"{k}={v}" for k, v in params.items() if isinstance(v, str) and v.startswith("builtin:")
    ]


def lineage_lines(run: Any) -> list[str]:
    """Indented lines: this run, its upstream runs (recursively), their input data."""
    lines = ["lineage:"]
    _walk(run.record, run.path, lines, depth=1, seen=set())
    return lines


def _walk(rec: dict[str, Any], folder: Path, lines: list[str], depth: int, seen: set[str]) -> None:
    pad = "  " * depth
    pipe = rec.get("pipeline") or {}
    step = f" [{pipe.get('step')}]" if pipe.get("step") else ""
    lines.append(
        f"{pad}{rec.get('id')}{step}  {rec.get('notebook', {}).get('path')}  "
        f"code:{str(rec.get('notebook', {}).get('code_sha256'))[:12]}  {rec.get('status')}"
    )
    if rec.get("id") in seen:
        return
    seen.add(str(rec.get("id")))
    params = rec.get("params") or {}
    for path, d in (rec.get("inputs") or {}).items():
        lines.append(f"{pad}  data: {path}  sha256:{d.get('sha256')}  {d.get('size')} B")
    for ref in _data_refs(params):
        lines.append(f"{pad}  data: {ref}  (bundled, mlops-nb {rec.get('mlops_nb_version')})")
    for param, reg in (rec.get("registry") or {}).items():
        if not isinstance(reg, dict) or reg.get("version") is None:
            lines.append(
                f"{pad}  model: {param}={reg.get('ref') if isinstance(reg, dict) else reg} (unset)"
            )
            continue
        at = f"{reg.get('model')}@{reg.get('alias')}"
        if reg.get("alias") != f"v{reg.get('version')}":  # a pinned `@v1` says its version
            at += f" v{reg.get('version')}"
        lines.append(f"{pad}  model: {param}={at}  sha256:{reg.get('sha256')}")
        try:
            _walk(
                store.read_record(Path(str(params.get(param)))),
                Path(str(params.get(param))),
                lines,
                depth + 1,
                seen,
            )
        except StoreError:
            lines.append(f"{pad}  {param}: run {reg.get('run_id')} (run folder missing)")
    upstream = params.get("upstream")
    if isinstance(upstream, dict):
        for name, up in upstream.items():
            up_folder = Path(str(up))
            if (up_folder / GATE_FILE).is_file():  # a gate step: its decision, not a run
                _gate_line(name, up_folder, lines, depth + 1)
                continue
            try:
                _walk(store.read_record(up_folder), up_folder, lines, depth + 1, seen)
            except StoreError:
                lines.append(f"{pad}  {name}: {up} (run folder missing)")


def _gate_line(name: str, folder: Path, lines: list[str], depth: int) -> None:
    d = read_decision(str(folder))
    lines.append(
        f"{'  ' * depth}{d.get('id') or folder.name} [{name}]  gate: {d.get('rule')}  "
        f"-> {d.get('decision') or 'decision unreadable'}"
    )
