"""The pure planner (issue 16): what is stale and why, what a run would run in which waves, and
what each step's turn brings — from step states and observations built in code, no kernels,
no files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.pipeline import fingerprint as fp
from mlops_nb.pipeline import planner
from mlops_nb.pipeline.spec import Pipeline, Step
from mlops_nb.pipeline.state import StepState
from mlops_nb.pipeline.steps import Plan


def parts(cells: tuple[str, ...] = ("c1",), **params: object) -> fp.Parts:
    return fp.Parts(cells=list(cells), params=dict(params), upstream={}, inputs={}, modules={})


def state(p: fp.Parts, *, status: str = "ok", run: str = "r1", **kw: object) -> StepState:
    return StepState(
        fingerprint=p.digest(),
        parts=p,
        run_id=run,
        run_folder=kw.pop("folder", f"/runs/{run}"),  # type: ignore[arg-type]
        status=status,
        consumed=kw.pop("consumed", {}),  # type: ignore[arg-type]
    )


NB = Step("a", Path("a.ipynb"))
SWEEP = Step("a", Path("a.ipynb"), grid={"x": [1, 2]})
REPORT = Step("a", None, report={})
SEEN = planner.Observed(parts(), folder_exists=True)


def reasons(step: Step, old: StepState | None, seen: planner.Observed = SEEN) -> list[str]:
    states = {step.name: old} if old is not None else {}
    return planner.plan_step(step, seen, states).reasons


@pytest.mark.parametrize(
    ("step", "old", "seen", "why"),
    [
        (NB, None, SEEN, ["never run"]),
        (NB, state(parts()), SEEN, []),
        (NB, state(parts(("c0",))), SEEN, ["code changed in code cell 1"]),
        (NB, state(parts(k=1)), planner.Observed(parts(k=2), True), ["parameter k changed (1 -> 2)"]),
        (NB, state(parts(), status="timeout"), SEEN, ["last run timeout"]),
        (NB, state(parts()), planner.Observed(parts(), True, False), ["last run stopped at a kernel error"]),
        (SWEEP, state(parts()), planner.Observed(parts(), True, False), ["last run stopped at a kernel error"]),
        (NB, state(parts()), planner.Observed(parts()), ["its run folder is gone"]),
        (REPORT, state(parts()), planner.Observed(parts()), []),  # a report keeps no run folder
        (NB, state(parts(), status="failed", folder=None), planner.Observed(parts()), ["last run failed"]),
    ],
    ids=["never", "up-to-date", "code", "param", "failed-status", "kernel-error", "sweep-kernel-error",
         "folder-gone", "report-no-folder", "failed-first-attempt"],
)  # fmt: skip
def test_why_a_step_is_stale(
    step: Step, old: StepState | None, seen: planner.Observed, why: list[str]
) -> None:
    assert reasons(step, old, seen) == why


def test_an_upstream_step_that_was_re_run_makes_it_stale() -> None:
    up = state(parts(), run="r2")
    me = state(parts(), consumed={"u": "r1"})
    step = Step("a", Path("a.ipynb"), upstream=("u",))
    plan = planner.plan_step(step, SEEN, {"u": up, "a": me})
    assert plan.reasons == ["upstream u was re-run"]
    # ... but not twice when its fingerprint already says the upstream step changed
    changed = planner.Observed(fp.Parts(["c1"], {}, {"u": "new"}, {}, {}), True)
    assert planner.plan_step(step, changed, {"u": up, "a": me}).reasons == ["upstream u changed"]


def test_a_fingerprint_that_moved_without_a_named_part_says_so() -> None:
    old = state(parts())
    old = StepState(**{**old.__dict__, "fingerprint": "something else"})
    assert reasons(NB, old) == ["fingerprint changed"]


def chain() -> Pipeline:
    steps = {
        "a": Step("a", Path("a.ipynb")),
        "b": Step("b", Path("b.ipynb")),
        "c": Step("c", Path("c.ipynb"), upstream=("a", "b")),
        "r": Step("r", None, upstream=("c",), report={}),
    }
    return Pipeline(Path("p.yaml"), "p", steps)


def plans(stale: set[str]) -> dict[str, Plan]:
    pipe = chain()
    return {
        n: Plan(s, parts(), "f", ["never run"] if n in stale else []) for n, s in pipe.steps.items()
    }


def waves(
    pipe: Pipeline, ps: dict[str, Plan], force: planner.Force = False
) -> list[list[tuple[str, list[str]]]]:
    return [[(p.step.name, p.reasons) for p in w] for w in planner.schedule(pipe, ps, force)]  # fmt: skip


def test_schedule_runs_the_stale_steps_and_everything_downstream_in_waves() -> None:
    assert waves(chain(), plans({"b"})) == [
        [("b", ["never run"])],
        [("c", ["upstream b runs"])],
        [("r", ["upstream c runs"])],
    ]


def test_schedule_independent_stale_steps_share_a_wave() -> None:
    got = waves(chain(), plans({"a", "b", "c"}))
    assert [[n for n, _ in w] for w in got] == [["a", "b"], ["c"], ["r"]]
    assert got[1] == [("c", ["never run"])]  # its own reason, not the upstream's


def test_schedule_up_to_date_is_empty_and_force_names_steps() -> None:
    assert waves(chain(), plans(set())) == []
    assert waves(chain(), plans(set()), {"r"}) == [[("r", ["forced"])]]
    assert [len(w) for w in planner.schedule(chain(), plans(set()), True)] == [2, 1, 1]


STEP = Step("c", Path("c.ipynb"), upstream=("a", "b"))
STALE = Plan(STEP, parts(), "f", ["never run"])
FRESH = Plan(STEP, parts(), "f", [])
RSTEP = Step("r", None, upstream=("a",), report={})


@pytest.mark.parametrize(
    ("step", "plan", "kw", "expected"),
    [
        (STEP, STALE, {}, ("run", "")),
        (STEP, FRESH, {}, ("skip", "")),
        (STEP, FRESH, {"force": True}, ("run", "")),
        (STEP, FRESH, {"force": {"c"}}, ("run", "")),
        (STEP, FRESH, {"force": {"a"}}, ("skip", "")),
        (STEP, STALE, {"failed": {"b", "a"}}, ("blocked", "upstream a, b did not succeed")),
        (STEP, STALE, {"cancelled": True}, ("blocked", "interrupted before it started")),
        (STEP, STALE, {"held": {"a": ("held", "closed"), "b": ("waiting", "approve")}}, ("waiting", "approve")),
        (STEP, STALE, {"held": {"a": ("held", "closed")}}, ("held", "closed")),
        (STEP, STALE, {"held": {"a": ("held", "x")}, "failed": {"b"}}, ("blocked", "upstream b did not succeed")),
        (RSTEP, Plan(RSTEP, parts(), "f", ["x"]), {"held": {"a": ("held", "x")}}, ("run", "")),
    ],
    ids=["stale", "fresh", "force-all", "force-it", "force-other", "blocked", "cancelled",
         "waiting-first", "held", "failed-beats-held", "report-runs-while-held"],
)  # fmt: skip
def test_what_a_steps_turn_brings(
    step: Step, plan: Plan, kw: dict[str, object], expected: tuple[str, str]
) -> None:
    args: dict[str, object] = {"failed": set(), "held": {}, "cancelled": False, **kw}
    d = planner.decide(step, plan, **args)  # type: ignore[arg-type]
    assert (d.action, d.detail) == expected


def test_certainly_stale_is_read_from_the_states_alone() -> None:
    pipe = chain()
    ok = state(parts())
    states = {"a": ok, "b": state(parts(), status="failed"), "r": ok}
    assert planner.certainly_stale(pipe, states) == ["b", "c"]  # c never ran
    assert planner.certainly_stale(pipe, {**states, "b": ok, "c": ok}) == []
    assert planner.certainly_stale(pipe, {**states, "b": ok, "c": ok}, {"r"}) == ["r"]
    assert planner.certainly_stale(pipe, {}, True) == ["a", "b", "c", "r"]
