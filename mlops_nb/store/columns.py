"""The runs index's columns: one table of (name, SQLite type, value from a run record).

``COLUMNS``, the index's ``CREATE TABLE`` and upsert (``store.index``) and ``row_of`` all follow
``TABLE`` (README's record table); the last column, the record file's mtime, comes from the
folder, not the record.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from mlops_nb import strict_json


def _nb(record: Mapping[str, Any]) -> Mapping[str, Any]:
    nb = record.get("notebook")
    return nb if isinstance(nb, Mapping) else {}


def _duration(record: Mapping[str, Any]) -> float | None:
    d = record.get("duration_s")
    return float(d) if isinstance(d, (int, float)) else None


def _git_commit(record: Mapping[str, Any]) -> Any:
    git = record.get("git")
    return git.get("commit") if isinstance(git, Mapping) else None


def _error_line(error: Any) -> str | None:
    if not isinstance(error, Mapping):
        return None
    cell = error.get("cell_index")
    where = f" (cell {cell + 1})" if isinstance(cell, int) else ""
    return f"{error.get('ename')}: {error.get('evalue')}{where}"


def _json(value: Any) -> str | None:
    return None if value is None else strict_json.dumps(value, ensure_ascii=False, default=str)


def _field(key: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda record: record.get(key)


# The one list of the index's columns: name, SQLite type, value from a run record (README's
# record table). COLUMNS, the table, the upsert and ``row_of`` all follow it; the last column,
# the record file's mtime, comes from the folder, not the record.
TABLE: tuple[tuple[str, str, Callable[[Mapping[str, Any]], Any]], ...] = (
    ("id", "TEXT PRIMARY KEY", lambda r: str(r["id"])),
    ("name", "TEXT", _field("name")),
    ("notebook", "TEXT", lambda r: str(_nb(r).get("path") or "")),
    ("notebook_abspath", "TEXT", lambda r: _nb(r).get("abspath")),
    ("notebook_name", "TEXT", lambda r: os.path.basename(str(_nb(r).get("path") or ""))),
    ("code_sha256", "TEXT", lambda r: _nb(r).get("code_sha256")),
    ("status", "TEXT", _field("status")),
    ("started_at", "TEXT", _field("started_at")),
    ("ended_at", "TEXT", _field("ended_at")),
    ("duration_s", "REAL", _duration),
    ("sweep_id", "TEXT", _field("sweep_id")),
    ("key", "TEXT", _field("key")),
    ("error", "TEXT", lambda r: _error_line(r.get("error"))),
    ("git_commit", "TEXT", _git_commit),
    ("params", "TEXT", lambda r: _json(r.get("params") or {})),
    ("scraps", "TEXT", lambda r: _json(r.get("scraps") or {})),
    ("pipeline", "TEXT", lambda r: _json(r.get("pipeline"))),
    ("rerun_of", "TEXT", _field("rerun_of")),
)
MTIME_COLUMN = "record_mtime_ns"
COLUMNS = (*(name for name, _, _ in TABLE), MTIME_COLUMN)
STATUS = COLUMNS.index("status")
VALUES = tuple(value for _, _, value in TABLE)


def row_of(record: Mapping[str, Any], mtime_ns: int = 0) -> tuple[Any, ...]:
    """The index row of a run record (values in ``COLUMNS`` order)."""
    row = [value(record) for value in VALUES]  # a list, then a tuple: faster than a generator
    row.append(mtime_ns)
    return tuple(row)
