"""A sweep resumes only from its own runs: an ok run with the same key made outside it (a
standalone ``mlops-nb run``, another sweep) does not count as done, so ``collect --sweep ID``
lists every run the sweep record names (review3 finding 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.main import main
from tests import nbbuild as b

pytestmark = pytest.mark.kernel


def sweep_json(nb: Path, grid: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    args = ["sweep", str(nb), "--grid", str(grid), "--executor", "serial", "--quiet", "--json"]
    assert main([*args, "--runs-dir", str(runs_dir)]) == 0
    return json.loads(capsys.readouterr().out)


def collected_ids(runs_dir: Path, sid: str, capsys: pytest.CaptureFixture[str]) -> set[str]:
    args = ["collect", "--runs-dir", str(runs_dir), "--sweep", sid, "--format", "json"]
    assert main([*args, "--columns", "id"]) == 0
    return {row["id"] for row in json.loads(capsys.readouterr().out)}


def standalone(nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The id of a new standalone run with ``model=logreg`` (no sweep)."""
    before = set(runs_dir.iterdir()) if runs_dir.is_dir() else set()
    assert main(["run", str(nb), "-p", "model", "logreg", "--runs-dir", str(runs_dir)]) == 0
    capsys.readouterr()
    (run,) = [p for p in set(runs_dir.iterdir()) - before if (p / "run.json").is_file()]
    return run.name


def test_outside_runs_do_not_count_and_own_runs_resume(
    no_kernels_left: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(no_kernels_left / "train.ipynb", b.params("model = 'rf'"), b.code("x = model"))
    grid = no_kernels_left / "g1.yaml"
    grid.write_text("model: [logreg, rf]\n")
    outside = standalone(nb, runs_dir, capsys)

    first = sweep_json(nb, grid, runs_dir, capsys)
    assert [e["status"] for e in first["runs"]] == ["ok", "ok"]
    assert not any(e["resumed"] for e in first["runs"])  # the outside run did not count
    own = {e["run_id"] for e in first["runs"]}
    assert outside not in own
    assert collected_ids(runs_dir, first["id"], capsys) == own

    newer_outside = standalone(nb, runs_dir, capsys)  # newer than the sweep's own run
    again = sweep_json(nb, grid, runs_dir, capsys)
    assert again["invocations"] == 2
    assert all(e["resumed"] for e in again["runs"])  # its own finished sets are skipped
    assert {e["run_id"] for e in again["runs"]} == own  # not switched to an outside run
    assert newer_outside not in own
    for e in again["runs"]:
        assert e["run_id"] in e["attempts"]
    assert collected_ids(runs_dir, again["id"], capsys) == own


def test_own_runs_the_record_never_named_are_taken_back(
    no_kernels_left: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A driver killed before it wrote its record: the sweep's runs (by their sweep_id) resume
    it, and the record names them in ``attempts``."""
    nb = b.write(no_kernels_left / "train.ipynb", b.params("model = 'rf'"), b.code("x = model"))
    grid = no_kernels_left / "g.yaml"
    grid.write_text("model: [logreg, rf]\n")
    first = sweep_json(nb, grid, runs_dir, capsys)
    (runs_dir / "sweeps" / f"{first['id']}.json").unlink()
    again = sweep_json(nb, grid, runs_dir, capsys)
    assert again["invocations"] == 1 and all(e["resumed"] for e in again["runs"])
    assert [e["attempts"] for e in again["runs"]] == [[e["run_id"]] for e in first["runs"]]
