"""The index's columns come from one table (issue 16): the SQLite table, the rows and the
readers agree with ``columns.COLUMNS``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from mlops_nb.results.collect import INDEX_COLUMNS
from mlops_nb.store import columns, index

DATA = Path(__file__).parent / "data"


def test_table_columns_are_the_column_list() -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript(index._SCHEMA)
    names = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
    assert tuple(names) == columns.COLUMNS
    assert names[0] == "id" and names[-1] == columns.MTIME_COLUMN


def test_row_of_follows_the_column_list() -> None:
    record = json.loads((DATA / "run_v0_failed.json").read_text(encoding="utf-8"))
    row = dict(zip(columns.COLUMNS, columns.row_of(record, 7), strict=True))
    assert row["id"] == record["id"] and row["status"] == "failed"
    assert row["notebook_name"] == "f.ipynb" and row["record_mtime_ns"] == 7
    assert row["error"].startswith("ZeroDivisionError: ") and row["error"].endswith("(cell 2)")
    assert json.loads(row["params"]) == record["params"]


def test_collect_reads_only_index_columns() -> None:
    assert set(INDEX_COLUMNS) <= set(columns.COLUMNS)


def test_index_round_trip(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    record = json.loads((DATA / "run_v0_golden.json").read_text(encoding="utf-8"))
    folder = runs / record["id"]
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    assert index.rebuild(runs) == 1
    (row,) = index.query_rows(runs)
    assert tuple(row) == columns.COLUMNS
    assert (row["id"], row["status"], row["duration_s"]) == (record["id"], "ok", 1.649)
