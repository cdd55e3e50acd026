"""``pipeline.recall``: what a skipped step shows, read from its records; a record that is gone or
damaged leaves that part empty instead of failing the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.pipeline.fingerprint import Parts
from mlops_nb.pipeline.recall import Recalled, best_of, recall
from mlops_nb.pipeline.spec import Step
from mlops_nb.pipeline.state import StepState
from tests.results.factory import make_run

GOLDEN = Path(__file__).parents[1] / "sweep" / "data" / "sweep_v0_resumed.json"
GRID = Step("train", Path("train.ipynb"), grid={"mode": ["ok"]}, select={"metric": "f1"})


def _state(folder: str | None, sweep_id: str | None = None) -> StepState:
    return StepState("fp", Parts.from_dict({}), "rid", folder, "ok", {}, sweep_id=sweep_id)


def test_best_of_says_how_many_failed() -> None:
    assert best_of(4, "f1", "max", 0) == "best of 4 runs by f1 (max)"
    assert best_of(4, "loss", "min", 1) == "best of 4 runs by loss (min); 1 failed"


def test_a_report_step_shows_its_page(tmp_path: Path) -> None:
    step = Step("report", None, report={})
    assert recall(step, _state("runs/report.html"), tmp_path) == Recalled(detail="runs/report.html")


@pytest.mark.parametrize("content", [None, "{broken", '["not", "a", "decision"]'])
def test_a_gate_without_a_readable_decision_shows_nothing(
    tmp_path: Path, content: str | None
) -> None:
    folder = tmp_path / "gate"
    folder.mkdir()
    if content is not None:
        (folder / "gate.json").write_text(content)
    step = Step("gate", None, gate={"rule": "a.x > 1"})
    assert recall(step, _state(str(folder)), tmp_path) == Recalled()
    assert recall(step, _state(None), tmp_path) == Recalled()


def test_a_notebook_step_without_its_run_shows_nothing(tmp_path: Path) -> None:
    step = Step("eda", Path("eda.ipynb"))
    assert recall(step, _state(None), tmp_path) == Recalled()
    assert recall(step, _state(str(tmp_path / "gone")), tmp_path) == Recalled()


def test_a_grid_step_reads_the_sweep_record(runs_dir: Path) -> None:
    old = json.loads(GOLDEN.read_text())
    folder = make_run(runs_dir, params={"mode": "ok", "x": 2}, scraps={"f1": 0.5})
    (runs_dir / "sweeps").mkdir()
    (runs_dir / "sweeps" / "s1.json").write_text(json.dumps({**old, "id": "s1"}))
    failed = sum(1 for e in old["runs"] if e["status"] != "ok")
    got = recall(GRID, _state(str(folder), "s1"), runs_dir)
    assert got == Recalled(
        scraps={"f1": 0.5},
        params={"mode": "ok"},
        detail=f"best of {len(old['runs'])} runs by f1 (max)" + f"; {failed} failed" * bool(failed),
    )
    # its sweep record gone, or damaged: the run's values without the detail
    (runs_dir / "sweeps" / "s1.json").write_text("{broken")
    assert recall(GRID, _state(str(folder), "s1"), runs_dir).detail == ""
    assert recall(GRID, _state(str(folder), "gone"), runs_dir).detail == ""
    assert recall(GRID, _state(str(folder)), runs_dir) == Recalled(scraps={"f1": 0.5})


@pytest.mark.parametrize("then", ["pending", "approve", "reject", "replace"])
def test_a_gates_pending_promotion_says_how_it_ended(runs_dir: Path, then: str) -> None:
    from mlops_nb.pipeline.recall import decided
    from mlops_nb.registry import api

    runs = [make_run(runs_dir, scraps={"f1": 0.9}) for _ in range(2)]
    for folder in runs:
        (folder / "model.joblib").write_bytes(b"model")
    change = api.promote(runs_dir, "m", runs[0].name, ["live"], require_approval=True).entry
    decision = {
        "decision": "pending approval: m v1 -> live",
        "change": change,
        "action": {"promote": "m"},
    }
    if then == "approve":
        api.approve(runs_dir, "m")
    elif then == "reject":
        api.reject(runs_dir, "m")
    elif then == "replace":
        api.promote(runs_dir, "m", runs[1].name, ["live"], require_approval=True)
    assert (
        decided(decision, runs_dir)
        == {
            "pending": "pending approval: m v1 -> live",
            "approve": "promoted m v1 -> live (approved)",
            "reject": "rejected: m v1 -> live",
            "replace": "not promoted: the request for m v1 -> live was replaced or dropped",
        }[then]
    )
