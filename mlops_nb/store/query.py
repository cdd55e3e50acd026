"""Column-wise reads of the runs index, for listings over 100,000 runs.

``index.query_rows`` builds one dict per run with every column; a listing that needs a few
columns of every run reads them here as one list per column (SQLite returns tuples; ``zip``
turns them into columns in C), after the same up-to-date check (``index.open_index``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mlops_nb.store import index
from mlops_nb.store.columns import COLUMNS
from mlops_nb.store.place import no_runs_folder


def _check_folder(runs_dir: Path) -> None:
    if not runs_dir.is_dir():
        raise no_runs_folder(runs_dir)


@index._fork_safe
def sync(runs_dir: Path) -> None:
    """Bring the index of ``runs_dir`` up to date (``index.open_index``), before queries that
    open it with ``sync=False``. Raises StoreError when ``runs_dir`` is not a folder."""
    _check_folder(Path(runs_dir))
    index.open_index(Path(runs_dir)).close()


@index._fork_safe
def columns(
    runs_dir: Path, names: Sequence[str], sql_where: str = "", args: Iterable[Any] = ()
) -> dict[str, list[Any]]:
    """``{column: [value of each matching run, in id order]}`` for index columns ``names``.

    Raises StoreError when ``runs_dir`` is not a folder; unknown names raise ValueError (a bug).
    """
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise ValueError(f"not index columns: {unknown}")
    runs_dir = Path(runs_dir)
    _check_folder(runs_dir)
    conn = index.open_index(runs_dir)
    try:
        where = f" WHERE {sql_where}" if sql_where else ""
        sql = f"SELECT {', '.join(names)} FROM runs{where} ORDER BY id"
        rows = conn.execute(sql, tuple(args)).fetchall()
    finally:
        conn.close()
    if not rows:
        return {n: [] for n in names}
    return {n: list(col) for n, col in zip(names, zip(*rows, strict=True), strict=True)}
