"""Find runs from what a user typed, through the runs index: ``show``, ``diff`` and ``Run.find``.

``runs.resolve_run`` lists every run folder to match an id prefix or a name: 1-4 s at 100,000
runs. The index has the same ids (``open_index`` brings in new folders first), so a prefix (of the
whole id or of its random part) or a name is one scan of the indexed ids, in SQLite.
Paths, exact ids and a read-only store (whose index would be built in memory from every
record) keep the folder lookup. Both follow ``store.refs``: a name several runs share is refused
with their ids, as a shared id prefix is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from mlops_nb.errors import StoreError, UsageError
from mlops_nb.store import index
from mlops_nb.store import runs as store
from mlops_nb.store.refs import LATEST, SHOWN, check_ref, pick


def resolve_run(runs_dir: Path, ref: str) -> Path:
    """A run folder from an id, a unique id prefix (of the whole id or of its random part), a
    run name (unique: shared names are refused like shared prefixes), ``latest`` or a folder
    path. Raises ``UsageError`` for an empty reference and ``StoreError`` (no such run, a
    reference matching several runs with their ids listed, no runs folder)."""
    return resolve_runs(runs_dir, [ref])[0]


def resolve_runs(runs_dir: Path, refs: Sequence[str]) -> list[Path]:
    """``resolve_run`` of each of ``refs``, in order, with one look at the index."""
    runs_dir = Path(runs_dir)
    for ref in refs:
        check_ref(ref)
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


def check_name(name: str | None) -> None:
    """Raise ``UsageError`` (one line) when ``name`` cannot name a run, because a reference to
    it would mean something else or nothing: empty (or no letter nor digit, of any script), or a
    reference keyword (``latest``, ``last``, ``-1``: the newest run). ``None`` is
    no name. (A name with ``/`` is found by it when no folder has that path.)"""
    if name is None:
        return
    slug = store.slug(name)
    if not any(c.isalnum() for c in name):  # any script's letters: 'ü', '日本' are names
        why = "is an empty value" if not name.strip() else "has no letter or digit"
        raise UsageError(f"the run name {name!r} {why}; give a name like 'baseline'.")
    if name in LATEST or slug in LATEST:
        raise UsageError(
            f"the run name {name!r} is reserved: as a run reference it means the newest run "
            f"({', '.join(LATEST)}); choose another name, e.g. '{slug or name}-run'."
        )


def _indexed_id(conn: sqlite3.Connection, runs_dir: Path, ref: str) -> str:
    if ref in LATEST:
        (latest,) = conn.execute("SELECT max(id) FROM runs").fetchone()
        if latest is None:
            raise StoreError(f"no runs in {runs_dir} yet.")
        return str(latest)
    # a run's whole name wins over an id prefix (store.refs); names are matched exactly
    rows = (
        conn.execute(
            "SELECT id, count(*) OVER () FROM runs WHERE name = ? ORDER BY id DESC LIMIT ?",
            (ref, SHOWN),
        ).fetchall()
        or conn.execute(
            "SELECT id, count(*) OVER () FROM runs"
            " WHERE substr(id, 1, ?) = ? OR substr(id, instr(id, 'Z-') + 2, ?) = ?"
            " ORDER BY id DESC LIMIT ?",
            (len(ref), ref, len(ref), ref, SHOWN),
        ).fetchall()
    )
    return pick(runs_dir, ref, [str(r[0]) for r in rows][::-1], rows[0][1] if rows else 0)
