"""Pipeline step kinds: one Protocol, one literal registry, one context value.

A step kind runs one stale step and says how it went: ``run(StepContext) -> Outcome``. It records
what downstream steps receive with ``remember`` and never raises for a failed step (a failure is
an ``Outcome`` whose action is ``failed``). It may also ``prepare``: start, in the background,
what it will need (a fork server, imports) while the steps before it run. The engine
(``pipeline.engine``) plans (``pipeline.planner``), schedules and saves state; it looks a step's
kind up here by ``Step.kind`` (``pipeline.spec``). A new kind: a module with its ``run`` and
``prepare`` (like ``pipeline.gate``), one line in ``STEP_KINDS``, its YAML key read in
``pipeline.spec``. (The pattern of papermill's engine registry and of ``sweep.executors``.)
"""

from __future__ import annotations

import dataclasses
import importlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from mlops_nb.errors import MlopsNbError
from mlops_nb.pipeline.state import StepState
from mlops_nb.store import runs as store

if TYPE_CHECKING:
    from mlops_nb.pipeline import fingerprint as fp
    from mlops_nb.pipeline.spec import Pipeline, Step

# kind -> the module holding its `run` and `prepare` (imported on first use: the report kind
# pulls in pandas, the gate kind the registry)
STEP_KINDS: dict[str, str] = {
    "notebook": "mlops_nb.pipeline.notebook_step",
    "sweep": "mlops_nb.pipeline.sweep_step",
    "report": "mlops_nb.pipeline.report_step",
    "gate": "mlops_nb.pipeline.gate",
}
# What a step's outcome may say without failing the pipeline: waiting (for an approval) and
# held (by a closed gate) are what the gates decided.
OK_ACTIONS = ("ran", "skipped", "marked", "waiting", "held")


@dataclass
class Plan:
    """A step as things are now: its fingerprint (and parts) and why it is stale."""

    step: Step
    parts: fp.Parts
    fingerprint: str
    reasons: list[str]  # empty: up to date

    @property
    def stale(self) -> bool:
        return bool(self.reasons)


@dataclass
class Outcome:
    """What happened to one step in one ``pipeline run``."""

    step: str
    action: str  # ran, skipped, failed, blocked, interrupted, marked, waiting, held
    status: str | None = None
    run_id: str | None = None
    run_folder: str | None = None
    reasons: list[str] = field(default_factory=list)
    scraps: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class StepContext:
    """Everything a step kind gets: the pipeline, this step's plan, the steps' states so far
    (shared by the steps running at the same time; each writes only its own entry), the runs
    folder, this pipeline invocation's id, the cancel event (set by SIGINT/SIGTERM), the worker
    limit, and the outcomes of this invocation so far (a report's headline)."""

    pipeline: Pipeline
    plan: Plan
    states: dict[str, StepState]
    runs_dir: Path
    run_id: str
    cancel: threading.Event
    workers: int | None = None
    done: Sequence[Outcome] = ()

    @property
    def step(self) -> Step:
        return self.plan.step

    def failed(self, detail: str) -> Outcome:
        """The outcome of a step that failed before it had a run."""
        return Outcome(self.step.name, "failed", detail=detail, reasons=self.plan.reasons)


class StepKind(Protocol):
    """A step kind's module: ``run`` one stale step (a failure is an ``Outcome``, never an
    exception) and ``prepare`` for it (background, best effort, idempotent; called when a step
    upstream of one of this kind is about to run)."""

    def run(self, ctx: StepContext) -> Outcome: ...

    def prepare(self, pipeline: Pipeline, run_id: str) -> None: ...


def kind_of(kind: str) -> StepKind:
    """The module of a step kind (``STEP_KINDS``); an unknown kind raises ValueError (a bug:
    ``pipeline.spec`` only makes known kinds)."""
    if kind not in STEP_KINDS:
        raise ValueError(f"unknown step kind {kind!r}; known: {', '.join(STEP_KINDS)}")
    return cast(StepKind, importlib.import_module(STEP_KINDS[kind]))


def run_step(ctx: StepContext) -> Outcome:
    """Run a stale step with its kind; a step queued when Ctrl-C came does not start."""
    if ctx.cancel.is_set():
        return Outcome(ctx.step.name, "blocked", detail="interrupted before it started")
    return kind_of(ctx.step.kind).run(ctx)


def consumed(step: Step, states: dict[str, StepState]) -> dict[str, str | None]:
    """The run id of each upstream step this step receives (None: an upstream step that never
    ran, as for a report step running while a gate holds the others back)."""
    return {u: s.run_id if (s := states.get(u)) else None for u in step.upstream}


def remember(
    ctx: StepContext,
    status: str,
    run_id: str | None = None,
    folder: str | None = None,
    sweep_id: str | None = None,
) -> None:
    """Record how the step went in ``ctx.states``. A failed attempt keeps the last good run to
    hand downstream, remembering that the attempt failed."""
    step, p, states = ctx.step, ctx.plan, ctx.states
    old = states.get(step.name)
    if status != "ok" and old is not None and old.status == "ok":
        states[step.name] = dataclasses.replace(old, status=status, marked_done=False)
        return
    states[step.name] = StepState(
        fingerprint=p.fingerprint,
        parts=p.parts,
        run_id=run_id,
        run_folder=folder,
        status=status,
        consumed=consumed(step, states),
        sweep_id=sweep_id,
    )


def scraps_of(folder: str | None) -> dict[str, Any]:
    """The scraps of the run in ``folder`` (``{}`` when there is none or it is unreadable)."""
    if not folder:
        return {}
    try:
        return dict(store.read_record(Path(folder)).get("scraps") or {})
    except MlopsNbError:
        return {}
