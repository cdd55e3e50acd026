"""Pipeline step kinds are a Protocol + a literal registry (issue 16): each kind a pipeline file
can declare has a module whose ``run`` takes one ``StepContext`` and whose ``prepare`` starts,
in the background, what its steps will need."""

from __future__ import annotations

import inspect
import sys
import threading
from pathlib import Path

import pytest

from mlops_nb.pipeline import fingerprint as fp
from mlops_nb.pipeline import kernels, steps
from mlops_nb.pipeline.spec import Pipeline, Step
from mlops_nb.pipeline.state import StepState
from mlops_nb.pipeline.sweep_step import pick_best
from mlops_nb.sweep.api import Sweep
from tests.results.factory import make_run

KINDS = [
    (Step("a", Path("a.ipynb")), "notebook"),
    (Step("a", Path("a.ipynb"), grid={"x": [1]}), "sweep"),
    (Step("a", None, report={}), "report"),
    (Step("a", None, gate={}), "gate"),
]


@pytest.mark.parametrize(("step", "kind"), KINDS, ids=[k for _, k in KINDS])
def test_every_kind_has_a_run_taking_a_context_and_a_prepare(step: Step, kind: str) -> None:
    assert step.kind == kind
    module = steps.kind_of(kind)
    (param,) = inspect.signature(module.run).parameters.values()
    assert param.annotation in ("StepContext", steps.StepContext)
    assert list(inspect.signature(module.prepare).parameters) == ["pipeline", "run_id"]


def test_registry_lists_exactly_the_kinds() -> None:
    assert set(steps.STEP_KINDS) == {"notebook", "sweep", "report", "gate"}


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="notebook, sweep, report, gate"):
        steps.kind_of("deploy")


def context(tmp_path: Path, step: Step, states: dict[str, StepState]) -> steps.StepContext:
    pipeline = Pipeline(tmp_path / "pipeline.yaml", "p", {step.name: step})
    parts = fp.Parts(cells=["new"], params={}, upstream={}, inputs={}, modules={})
    plan = steps.Plan(step, parts, parts.digest(), ["new"])
    return steps.StepContext(pipeline, plan, states, tmp_path, "r", threading.Event())


def test_a_cancelled_step_does_not_start(tmp_path: Path) -> None:
    ctx = context(tmp_path, Step("train", tmp_path / "missing.ipynb"), {})
    ctx.cancel.set()
    outcome = steps.run_step(ctx)  # would fail if it started: the notebook does not exist
    assert (outcome.action, outcome.detail) == ("blocked", "interrupted before it started")
    assert ctx.states == {}


def test_remember_a_failed_attempt_keeps_the_last_good_run(tmp_path: Path) -> None:
    old_parts = fp.Parts(cells=["old"], params={}, upstream={}, inputs={}, modules={})
    good = StepState(
        fingerprint="old",
        parts=old_parts,
        run_id="r1",
        run_folder="/runs/r1",
        status="ok",
        consumed={},
        marked_done=True,
        sweep_id="s1",
    )
    ctx = context(tmp_path, Step("a", Path("a.ipynb")), {"a": good})
    steps.remember(ctx, "failed")
    kept = ctx.states["a"]
    assert (kept.run_id, kept.run_folder, kept.fingerprint, kept.sweep_id) == (
        "r1",
        "/runs/r1",
        "old",
        "s1",
    )
    assert (kept.status, kept.marked_done) == ("failed", False)
    steps.remember(ctx, "ok", "r2", "/runs/r2", "s2")
    new = ctx.states["a"]
    assert (new.run_id, new.status, new.fingerprint, new.sweep_id) == (
        "r2",
        "ok",
        ctx.plan.fingerprint,
        "s2",
    )


def test_a_gate_that_cannot_decide_fails_and_writes_nothing(tmp_path: Path) -> None:
    up = StepState("f", fp.Parts([], {}, {}, {}, {}), "r1", None, "ok", {})
    gate = {"rule": "u.x > 1", "action": None, "approval": "none"}
    ctx = context(tmp_path, Step("g", None, upstream=("u",), gate=gate), {"u": up})
    outcome = steps.run_step(ctx)  # u glued no x: the rule cannot be evaluated
    assert outcome.action == "failed" and "u.x" in outcome.detail
    assert ctx.states["g"].status == "failed"
    assert list((tmp_path / "pipelines" / "p" / "gates").iterdir()) == []


def test_warm_imports_in_the_background_and_settle_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "warm_me.py").write_text("import time\ntime.sleep(0.2)\nDONE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "warm_me", raising=False)
    pipeline = Pipeline(tmp_path / "pipeline.yaml", "p", {})
    with kernels.opened("inv", pipeline, fork=False) as k:
        kernels.warm("inv", ("no_such_module_here", "json"))  # a failure is only logged
        kernels.warm("inv", ("warm_me",))
        kernels.warm("inv", ("warm_me",))  # once
        assert len(k._warming) == 2
        assert kernels.sweep_options("inv") == {"preload": (), "fork": False}  # settles first
        assert sys.modules["warm_me"].DONE
    kernels.warm("gone", ("warm_me",))  # an invocation that is over: nothing


def sweep_of(runs: Path, scraps: list[dict[str, object]], status: str = "ok") -> Sweep:
    entries = []
    for i, s in enumerate(scraps):
        folder = make_run(runs, params={"m": i}, scraps=s, status=status)
        entries.append({"index": i, "key": f"set-{i}", "run_id": folder.name, "status": status})
    return Sweep(runs, {"id": "sw1", "status": "ok", "runs": entries})


@pytest.mark.parametrize(
    ("select", "scraps", "best"),
    [
        ({"metric": "f1", "mode": "max"}, [{"f1": 0.5}, {"f1": 0.9}, {"f1": 0.7}], 1),
        ({"metric": "f1", "mode": "min"}, [{"f1": 0.5}, {"f1": 0.9}, {"f1": 0.7}], 0),
        ({"metric": "f1", "mode": "max"}, [{"f1": "high"}, {"f1": 0.1}], 1),
    ],
    ids=["max", "min", "numbers-only"],
)
def test_a_sweep_step_hands_its_best_run_downstream(
    tmp_path: Path, select: dict[str, str], scraps: list[dict[str, object]], best: int
) -> None:
    step = Step("t", Path("t.ipynb"), grid={"m": [0, 1, 2]}, select=select)
    ctx = context(tmp_path, step, {})
    sweep = sweep_of(tmp_path / "runs", scraps)
    outcome = pick_best(ctx, sweep, 0.0)
    assert (outcome.action, outcome.params) == ("ran", {"m": best})
    assert outcome.detail == f"best of {len(scraps)} runs by f1 ({select['mode']})"
    assert ctx.states["t"].run_id == sweep.runs[best].id and ctx.states["t"].sweep_id == "sw1"


@pytest.mark.parametrize(
    ("select", "says"),
    [
        ({"metric": "f1", "mode": "max"}, "0/2 runs ok; no successful run glued a numeric 'f1'"),
        (
            {"metric": "", "mode": "max"},
            "0/2 runs ok; a grid step needs select: {metric: NAME, mode: max|min}",
        ),
    ],
    ids=["no-metric-glued", "no-select"],
)
def test_a_sweep_step_without_a_best_run_fails(
    tmp_path: Path, select: dict[str, str], says: str
) -> None:
    step = Step("t", Path("t.ipynb"), grid={"m": [0, 1]}, select=select)
    ctx = context(tmp_path, step, {})
    outcome = pick_best(ctx, sweep_of(tmp_path / "runs", [{"f1": 1}, {}], "failed"), 0.0)
    assert (outcome.action, outcome.detail) == ("failed", says)
    assert ctx.states["t"].status == "failed" and ctx.states["t"].sweep_id == "sw1"


def test_a_report_step_that_cannot_write_fails_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the report's folder goes")
    ctx = context(tmp_path, Step("r", None, report={"output": "taken/report.html"}), {})
    outcome = steps.run_step(ctx)
    assert outcome.action == "failed" and outcome.detail.startswith("cannot write ")
    assert "r" not in ctx.states


def test_a_report_step_with_a_bad_filter_fails_with_its_message(tmp_path: Path) -> None:
    make_run(tmp_path, params={"m": 1}, scraps={"f1": 0.5}, pipeline={"name": "p"})
    ctx = context(tmp_path, Step("r", None, report={"sort": "no_such_column"}), {})
    outcome = steps.run_step(ctx)
    assert outcome.action == "failed" and "no_such_column" in outcome.detail
    assert not (tmp_path / "report.html").exists()
