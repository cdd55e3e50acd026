"""The outline's SQL (issue 18): its two-step grouping gives the very rows that grouping every run
by section at once gave (types included), over runs of sweeps, notebooks and pipeline steps and
over odd index rows (no status, an unknown one, no start, a pipeline key that is not a JSON
object), for the whole store and for selections; it reads the covering index, which an index
made before it gets when next opened."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.report import outline
from mlops_nb.report.notebooks import key_sql
from mlops_nb.report.views import FAILED
from mlops_nb.results.filter import STATUSES
from mlops_nb.store import index, query
from mlops_nb.store.columns import row_of
from tests.results.factory import make_run

# The outline's query as it was: every run grouped by section in one pass.
_ONE_PASS = (
    f"SELECT {outline._GROUP}, count(*), min(id), max(id), max(started_at), "
    f"sum(status IN ({', '.join(repr(s) for s in FAILED)})), "
    f"max(record_mtime_ns), sum(record_mtime_ns % {outline._PRIME}), "
    + ", ".join(
        [f"sum(status = '{s}')" for s in STATUSES]
        + [f"sum(status NOT IN ({', '.join(repr(s) for s in STATUSES)}))"]
    )
    + " FROM runs{where} GROUP BY 1, 2, 3, 4"
)

_ODD: list[dict[str, Any]] = [
    {"status": None, "pipeline": {"name": "p", "step": "a"}},
    {"status": "weird", "started_at": None},
    {"status": "failed", "pipeline": "not json"},
    {"status": "timeout", "pipeline": [1, 2]},
    {"status": "ok", "pipeline": {"name": 3, "step": None}},
    {"status": "lost", "pipeline": {"step": "b"}, "sweep_id": "s-odd"},
    {"status": None, "started_at": None, "sweep_id": "s-odd"},
]


def _store(runs_dir: Path) -> None:
    for i in range(3):
        make_run(runs_dir, sweep_id="s1", params={"lr": i}, status=("ok", "failed", "ok")[i])
    make_run(runs_dir, notebook="eval.ipynb", status="interrupted")
    make_run(runs_dir, notebook="eval.ipynb")
    for step, status in (("prep", "ok"), ("train", "failed"), ("prep", "ok")):
        make_run(
            runs_dir,
            notebook=f"{step}.ipynb",
            status=status,
            pipeline={"name": "flow", "step": step, "file": "pipeline.yaml"},
        )
    query.sync(runs_dir)
    conn = index.open_index(runs_dir, sync=False)
    try:
        for n, odd in enumerate(_ODD):
            record = {
                "id": f"20990101T000000.{n:06d}Z-abcdef",
                "notebook": {"path": "odd.ipynb"},
                "started_at": f"2099-01-01T00:00:0{n}",
                **odd,
            }
            raw = row_of(record, 10**18 + n)
            if isinstance(odd.get("pipeline"), str):  # a text no JSON parser reads
                raw = (*raw[:-3], odd["pipeline"], *raw[-2:])
            conn.execute(index._UPSERT, raw)
    finally:
        conn.close()


def _rows(sel: outline.Selection, sql: str) -> list[str]:
    return sorted(repr(r) for r in outline._query(sel, sql))


@pytest.mark.parametrize(
    "where",
    [
        ("", ()),
        ("status = ?", ("ok",)),
        ("sweep_id IS NULL", ()),
    ],
)
def test_two_steps_give_the_one_pass_rows(runs_dir: Path, where: tuple[str, tuple[Any]]) -> None:
    _store(runs_dir)
    sel = outline.Selection(runs_dir, where[0], where[1])
    assert _rows(sel, outline._OUTLINE) == _rows(sel, _ONE_PASS)
    assert len(_rows(sel, _ONE_PASS)) >= 3


def test_two_steps_give_the_one_pass_rows_for_chosen_ids(runs_dir: Path) -> None:
    _store(runs_dir)
    ids = [r["id"] for r in index.query_rows(runs_dir)]
    sel = outline.Selection(runs_dir, ids=tuple(ids[::2]))
    assert _rows(sel, outline._OUTLINE) == _rows(sel, _ONE_PASS)
    page = outline.read(sel)
    assert page.total == len(ids[::2])
    assert sum(o.count for o in page.outlines) == page.total


def test_the_page_counts_every_status_and_section(runs_dir: Path) -> None:
    _store(runs_dir)
    page = outline.read(outline.Selection(runs_dir))
    by_key = {o.key: o for o in page.outlines}
    assert page.total == 8 + len(_ODD)
    assert page.statuses["weird"] == 1 and page.statuses["None"] == 2
    assert page.pipelines == {"flow": "pipeline.yaml", "p": None, 3: None}
    s1 = next(o for o in page.outlines if o.count == 3 and o.step is None)
    assert (s1.failed, json.loads(s1.fingerprint)[5]) == (1, [0, 2, 1, 0, 0, 0, 0])
    assert {o.step for o in by_key.values() if o.step} >= {("flow", "prep"), ("flow", "train")}
    # in order of their first run
    firsts = [json.loads(o.fingerprint)[1] for o in page.outlines]
    assert firsts == sorted(firsts)


def _plan(runs_dir: Path, sql: str = outline._OUTLINE) -> str:
    sql = sql.replace("{where}", "").replace("{notebook}", key_sql(runs_dir))
    conn = sqlite3.connect(index.index_path(runs_dir))
    try:
        return " ".join(str(r) for r in conn.execute("EXPLAIN QUERY PLAN " + sql))
    finally:
        conn.close()


_PIPES = outline._PIPES.replace("{where}", " WHERE (pipeline IS NOT NULL)")


def test_the_outline_reads_the_covering_indexes(runs_dir: Path) -> None:
    _store(runs_dir)
    assert "COVERING INDEX runs_by_section" in _plan(runs_dir)
    assert "COVERING INDEX runs_by_pipeline" in _plan(runs_dir, _PIPES)


def test_an_index_made_before_the_covering_indexes_gets_them(runs_dir: Path) -> None:
    _store(runs_dir)
    conn = sqlite3.connect(index.index_path(runs_dir))
    conn.execute("DROP INDEX runs_by_section")
    conn.execute("DROP INDEX runs_by_pipeline")
    conn.close()
    before = _plan(runs_dir) + _plan(runs_dir, _PIPES)
    assert "runs_by_section" not in before and "runs_by_pipeline" not in before  # as they were
    query.sync(runs_dir)
    assert "COVERING INDEX runs_by_section" in _plan(runs_dir)
    assert "COVERING INDEX runs_by_pipeline" in _plan(runs_dir, _PIPES)
    assert len(index.query_rows(runs_dir)) == 8  # the folders' runs (the odd rows had none)
