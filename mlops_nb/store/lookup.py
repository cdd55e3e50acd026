"""Find runs from what a user typed, through the runs index: ``show``, ``diff`` and ``Run.find``.

``runs.resolve_run`` lists every run folder to match an id prefix or a name: 1-4 s at 100,000
runs. The index has the same ids (``open_index`` brings in new folders first), so a prefix (of the
whole id or of its random part) or a name is one scan of the indexed ids, in SQLite.
Paths, exact ids and a read-only store (whose index would be built in memory from every
record) keep the folder lookup.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from mlops_nb.errors import StoreError
from mlops_nb.store import index
from mlops_nb.store import runs as store
from mlops_nb.store.hints import command

LATEST = ("latest", "last", "-1")


def resolve_run(runs_dir: Path, ref: str) -> Path:
    """A run folder from an id, a unique id prefix (of the whole id or of its random part), a
    run name (the latest run with it wins), ``latest`` or a folder path: ``runs.resolve_run``'s
    rules and messages. Raises ``StoreError`` (no such run, an ambiguous prefix, no runs folder).
    """
    return resolve_runs(runs_dir, [ref])[0]


def resolve_runs(runs_dir: Path, refs: Sequence[str]) -> list[Path]:
    """``resolve_run`` of each of ``refs``, in order, with one look at the index."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir() or not index.writable(runs_dir):
        return [store.resolve_run(runs_dir, ref) for ref in refs]
    conn: sqlite3.Connection | None = None
    found = []
    try:
        for ref in refs:
            is_path = "/" in ref or "\\" in ref or ref in (".", "..")
            if is_path or (store.is_run_id(ref) and (runs_dir / ref / store.RECORD).is_file()):
                found.append(store.resolve_run(runs_dir, ref))
                continue
            conn = conn or index.open_index(runs_dir)
            found.append(runs_dir / _indexed_id(conn, runs_dir, ref))
    finally:
        if conn is not None:
            conn.close()
    return found


def _indexed_id(conn: sqlite3.Connection, runs_dir: Path, ref: str) -> str:
    if ref in LATEST:
        (latest,) = conn.execute("SELECT max(id) FROM runs").fetchone()
        if latest is None:
            raise StoreError(f"no runs in {runs_dir} yet.")
        return str(latest)
    n, first = conn.execute(
        "SELECT count(*), min(id) FROM runs"
        " WHERE substr(id, 1, ?) = ? OR substr(id, instr(id, 'Z-') + 2, ?) = ?",
        (len(ref), ref, len(ref), ref),
    ).fetchone()
    if n == 1:
        return str(first)
    if n > 1:
        raise StoreError(f"{ref!r} matches {n} runs; give more of the id (e.g. {first}).")
    tail = "-" + store.slug(ref)
    (named,) = conn.execute(
        "SELECT max(id) FROM runs WHERE ? != '-' AND substr(id, -?) = ?",
        (tail, len(tail), tail),
    ).fetchone()
    if named is None:
        raise StoreError(
            f"no run {ref!r} in {runs_dir}. List runs with `{command('collect', runs_dir=runs_dir)}`."
        )
    return str(named)
