"""``RunFilter``: one value for the filters of ``collect``, ``build_report`` and ``export``, the
same runs as the keywords it replaces, and one set of flags for their commands."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import pytest

import mlops_nb
from mlops_nb import RunFilter, collect
from mlops_nb.commands._filters import add_filters, run_filter
from mlops_nb.errors import UsageError
from mlops_nb.main import main
from tests.results.factory import make_run


@pytest.fixture
def store(runs_dir: Path) -> Path:
    make_run(runs_dir, params={"C": 1}, scraps={"f1": 0.9}, sweep_id="sw-aaa")
    make_run(runs_dir, params={"C": 2}, scraps={"f1": 0.7}, sweep_id="sw-aaa")
    make_run(
        runs_dir,
        params={"C": 3},
        scraps={"f1": 0.8},
        sweep_id="sw-bbb",
        pipeline={"name": "churn", "step": "train", "run_id": "p1"},
    )
    make_run(runs_dir, params={"C": 4}, status="failed", notebook="nb/eval.ipynb")
    return runs_dir


CASES: list[dict[str, Any]] = [
    {},
    {"notebook": "eval.ipynb"},
    {"notebook": "eval"},
    {"sweep": "sw-a"},
    {"pipeline": "churn"},
    {"status": "ok"},
    {"status": ["failed", "lost"]},
    {"status": "ok, timeout"},
    {"where": "f1 >= 0.8"},
    {"sweep": "sw-a", "status": "ok", "where": "C > 1"},
]


@pytest.mark.parametrize("keywords", CASES, ids=lambda k: ",".join(k) or "none")
def test_a_filter_value_reads_the_runs_its_keywords_read(
    store: Path, keywords: dict[str, Any]
) -> None:
    by_keywords = collect(store, **keywords)
    by_value = collect(store, filter=RunFilter(**keywords))
    assert by_value["id"].tolist() == by_keywords["id"].tolist()
    assert list(by_value.columns) == list(by_keywords.columns)
    assert len(by_value) < 4 or not keywords  # each case narrows the store


def test_the_value_is_frozen_hashable_and_normalised() -> None:
    f = RunFilter(status="ok, failed", sweep="")
    assert f.status == ("ok", "failed") and f.sweep is None
    assert f == RunFilter(status=["ok", "failed"])
    assert hash(f) == hash(RunFilter(status=("ok", "failed")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.where = "f1 > 0"  # type: ignore[misc]
    assert not RunFilter() and RunFilter(where="f1 > 0")
    assert dataclasses.replace(f, where="C > 1").status == ("ok", "failed")


def test_an_unknown_status_is_refused_when_the_filter_is_made() -> None:
    with pytest.raises(UsageError, match="unknown status done, later; choose from running, ok"):
        RunFilter(status="ok,done,later")


def test_filter_value_and_keywords_together_is_a_type_error(store: Path) -> None:
    with pytest.raises(TypeError, match="give filter= or status, not both"):
        collect(store, filter=RunFilter(sweep="sw"), status="ok")
    with pytest.raises(TypeError, match="takes a RunFilter"):
        collect(store, filter={"status": "ok"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unknown filter keywords: colour"):
        RunFilter.of(None, colour="red")


def test_sql_and_flags() -> None:
    f = RunFilter(notebook="nb.ipynb", sweep="sw", pipeline="p", status="ok,lost", where="C > 1")
    sql, args = f.sql()
    assert sql.count(" AND ") == 3 and "where" not in sql.lower()
    assert args[-2:] == ["ok", "lost"]
    assert RunFilter().sql() == ("", [])
    assert f.flags() == "--notebook nb.ipynb --sweep sw --pipeline p --status ok,lost --where C > 1"
    assert RunFilter().flags() == ""


def test_the_flags_make_the_value() -> None:
    parser = argparse.ArgumentParser()
    add_filters(parser)
    args = parser.parse_args(["--sweep", "s1", "--status", "ok,failed", "--where", "f1 > 0"])
    assert run_filter(args) == RunFilter(sweep="s1", status="ok,failed", where="f1 > 0")
    assert run_filter(parser.parse_args([])) == RunFilter()


@pytest.mark.parametrize("command", ["collect", "report", "export"])
def test_every_command_refuses_an_unknown_status_the_same_way(
    store: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = ["mlflow"] if command == "export" else []
    assert main([command, *target, "--runs-dir", str(store), "--status", "done"]) == 2
    assert "unknown status done; choose from" in capsys.readouterr().err


def test_export_selects_with_a_filter_value(store: Path) -> None:
    by_value = mlops_nb.export(
        "mlflow", runs_dir=store, filter=RunFilter(sweep="sw-a"), dry_run=True
    )
    by_keywords = mlops_nb.export("mlflow", runs_dir=store, sweep="sw-a", dry_run=True)
    runs = [e.key for e in by_value.entries if e.kind == "run"]
    assert len(runs) == 2
    assert runs == [e.key for e in by_keywords.entries if e.kind == "run"]


def test_report_takes_a_filter_value_and_names_it(store: Path, tmp_path: Path) -> None:
    from mlops_nb.report import build_report

    page = build_report(
        store, output=tmp_path / "r.html", filter=RunFilter(status="failed")
    ).read_text("utf-8")
    assert "--status failed" in page
    assert "eval.ipynb" in page and "train.ipynb" not in page
