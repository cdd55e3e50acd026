"""Run a pipeline: plan each step (up to date or stale, and why), run what is stale, record it.

Steps run wave by wave in topological order; the steps of one wave run at the same time
(threads; each step through its kind, ``pipeline.steps``: a notebook step on one kernel forked
from a preloaded template, ``pipeline.kernels``; a sweep step with its own worker pool). What is
stale and what each step's turn brings is decided by ``pipeline.planner`` (pure); this module
reads the world for it (``observe``), runs the steps and keeps the state. A step receives its
upstream steps' run folders in its ``upstream`` parameter. State is saved after every step, so
an interrupted or failed pipeline resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb.errors import ConfigError, RunInterrupted
from mlops_nb.interrupts import on_interrupt
from mlops_nb.pipeline import fingerprint as fp
from mlops_nb.pipeline import hints, kernels, planner
from mlops_nb.pipeline.recall import recall
from mlops_nb.pipeline.spec import Pipeline, Step
from mlops_nb.pipeline.state import StateStore, StepState
from mlops_nb.pipeline.steps import (
    OK_ACTIONS,
    Outcome,
    Plan,
    StepContext,
    consumed,
    kind_of,
    run_step,
)
from mlops_nb.store import runs as store
from mlops_nb.store import settle

__all__ = ["OK_ACTIONS", "Outcome", "PipelineResult", "Plan", "mark_done", "plan", "run"]


@dataclass
class PipelineResult:
    pipeline: Pipeline
    run_id: str
    outcomes: list[Outcome]
    record_path: Path | None = None

    @property
    def ok(self) -> bool:
        # waiting (for an approval) and held (by a closed gate) are what the gates decided
        return all(o.action in OK_ACTIONS for o in self.outcomes)


def roots(pipeline: Pipeline) -> list[Path]:
    root = pipeline.root.resolve()
    return [root, root.parent]


def observe(
    pipeline: Pipeline,
    step: Step,
    states: dict[str, StepState],
    upstream_fps: dict[str, str],
    runs_dir: Path | None = None,
) -> planner.Observed:
    """Read what planning ``step`` needs: its fingerprint parts now (notebook, parameters with
    registry references pinned, inputs, local modules) and its last run folder's state."""
    if step.report is not None or step.gate is not None:
        parts = fp.Parts(
            cells=[],
            params=dict(step.report if step.report is not None else step.gate or {}),
            upstream=upstream_fps,
            inputs={},
            modules={},
            extra={step.kind: True},
        )
    else:
        assert step.notebook is not None
        params = step.params
        if runs_dir is not None:  # an alias that moved makes the step stale
            from mlops_nb.pipeline.gate import downstream_gates
            from mlops_nb.registry.refs import pinned

            params = pinned(params, runs_dir, ignore=downstream_gates(pipeline, step.name))
        extra = {"grid": step.grid, "select": step.select} if step.grid else {}
        parts = fp.notebook_parts(
            step.notebook, params, upstream_fps, roots=roots(pipeline), extra=extra
        )
    old = states.get(step.name)
    folder = Path(old.run_folder) if old is not None and old.run_folder else None
    if folder is None or not folder.is_dir():
        return planner.Observed(parts)
    check = old is not None and old.status == "ok" and step.kind in ("notebook", "sweep")
    return planner.Observed(parts, True, store.ran_clean(folder) if check else True)


def plan(pipeline: Pipeline, runs_dir: Path) -> list[Plan]:
    """Every step's state as things are now (what `pipeline status` prints)."""
    states = StateStore(runs_dir, pipeline.name).load()
    return list(_plan_all(pipeline, states, runs_dir).values())


def _plan_all(pipeline: Pipeline, states: dict[str, StepState], runs_dir: Path) -> dict[str, Plan]:
    plans: dict[str, Plan] = {}
    _replan(plans, pipeline, pipeline.order(), states, runs_dir)
    return plans


def _replan(
    plans: dict[str, Plan],
    pipeline: Pipeline,
    names: list[str],
    states: dict[str, StepState],
    runs_dir: Path,
) -> None:
    """Plan the steps ``names`` (in order) as things are now, into ``plans``."""
    for name in names:
        step = pipeline.steps[name]
        ups = {u: plans[u].fingerprint for u in step.upstream}
        seen = observe(pipeline, step, states, ups, runs_dir)
        plans[name] = planner.plan_step(step, seen, states)


def run(
    pipeline: Pipeline,
    *,
    runs_dir: Path,
    force: bool | set[str] = False,
    workers: int | None = None,
    on_event: Callable[[Outcome], None] | None = None,
    fork: bool = True,
) -> PipelineResult:
    """Run the stale steps of ``pipeline`` (all of them with ``force=True``, or the named ones).
    Kernels are forked from a template that has imported what the steps import, unless
    ``fork`` is False (``pipeline.kernels``). Raises ``RunInterrupted`` after SIGINT/SIGTERM
    (the finished steps recorded), ``StoreError`` when another run holds the pipeline's lock."""
    sstore = StateStore(runs_dir, pipeline.name)
    run_id = store.new_run_id(pipeline.name)
    cancel = threading.Event()
    with sstore.lock(), on_interrupt(cancel.set), kernels.opened(run_id, pipeline, fork=fork):
        settle.settle_all(runs_dir)  # step runs whose driver died: written down as lost
        go = _Invocation(pipeline, runs_dir, run_id, cancel, workers, force, sstore)
        go.emit = on_event or go.emit
        go.run_all()
        result = PipelineResult(pipeline, run_id, go.outcomes)
        result.record_path = sstore.save_run(run_id, _pipeline_record(result, go.states))
    if cancel.is_set():
        raise RunInterrupted(
            f"pipeline {pipeline.name} interrupted; finished steps are recorded, "
            f"run `{hints.command(pipeline, 'run', runs_dir=runs_dir)}` again to resume."
        )
    return result


@dataclass
class _Invocation:
    """One ``pipeline run``: its states, what has happened so far, and the steps' turns."""

    pipeline: Pipeline
    runs_dir: Path
    run_id: str
    cancel: threading.Event
    workers: int | None
    force: planner.Force
    sstore: StateStore
    outcomes: list[Outcome] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    held: dict[str, tuple[str, str]] = field(default_factory=dict)  # a gate's decision
    ran: bool = False  # a step ran: the world the first plans read has changed
    prepared: set[str] = field(default_factory=set)  # the kinds that prepared
    coming: dict[str, str] = field(default_factory=dict)  # step -> kind, of the steps to run

    def __post_init__(self) -> None:
        self.states = self.sstore.load(start_over=self.force is True)  # --force: aside
        self.emit: Callable[[Outcome], None] = lambda o: None

    def run_all(self) -> None:
        """Plan every step, then run wave by wave; before the first step runs, each kind of
        step to come prepares (``StepKind.prepare``: fork servers start, imports load)."""
        certain = planner.certainly_stale(self.pipeline, self.states, self.force)
        if any(self.pipeline.steps[n].notebook is not None for n in certain):
            kernels.start(self.run_id)  # the template imports while the steps are planned
        plans = _plan_all(self.pipeline, self.states, self.runs_dir)
        self.coming = {
            p.step.name: p.step.kind
            for wave in planner.schedule(self.pipeline, plans, self.force)
            for p in wave
        }
        for wave in self.pipeline.levels():
            if self.ran:  # re-read: upstream runs, fingerprints and aliases have moved
                _replan(plans, self.pipeline, wave, self.states, self.runs_dir)
            self._wave([plans[name] for name in wave])
            if self.cancel.is_set():
                break

    def _wave(self, plans: list[Plan]) -> None:
        todo: list[Plan] = []
        for p in plans:
            d = planner.decide(
                p.step,
                p,
                failed=self.failed,
                held=self.held,
                cancelled=self.cancel.is_set(),
                force=self.force,
            )
            if d.action == "run":
                todo.append(p)
            else:
                self._note(p.step, self._not_run(p.step, d))
        self._prepare(todo)
        for p, o in _run_wave(self._context, todo, self.workers or self.pipeline.workers):
            self.ran = True
            if o.action != "ran":
                self.failed.add(p.step.name)
            self._note(p.step, o)
            self.sstore.save(self.states)

    def _prepare(self, todo: list[Plan]) -> None:
        """Steps are about to run: the kinds of these and of the steps to come after them
        prepare, each once (a run whose steps are all up to date or held back prepares
        nothing). A report's background imports wait until no sweep step is left to start:
        a sweep's pool forks this process, which must not happen while another thread imports
        (``kernels.settle``), and the template's own imports come first."""
        if not todo:
            return
        ran = {o.step for o in self.outcomes}
        after = {n for p in todo for n in self.pipeline.downstream(p.step.name)}
        names = [p.step.name for p in todo] + [n for n in self.coming if n in after]
        sweeps = any(self.coming[n] == "sweep" for n in self.coming if n not in ran)
        for kind in dict.fromkeys(self.pipeline.steps[n].kind for n in names):
            if kind not in self.prepared and not (kind == "report" and sweeps):
                self.prepared.add(kind)
                kind_of(kind).prepare(self.pipeline, self.run_id)

    def _not_run(self, step: Step, d: planner.Decision) -> Outcome:
        if d.action in ("waiting", "held"):
            self.held[step.name] = (d.action, d.detail)
        if d.action != "skip":
            if d.action == "blocked":
                self.failed.add(step.name)
            return Outcome(step.name, d.action, detail=d.detail)
        st = self.states[step.name]
        was = recall(step, st, self.runs_dir)  # what the invocation that ran it showed
        return Outcome(
            step.name,
            "skipped",
            status="ok",
            run_id=st.run_id,
            run_folder=st.run_folder,
            scraps=was.scraps,
            params=was.params,
            detail=was.detail,
        )

    def _note(self, step: Step, o: Outcome) -> None:
        """Record an outcome; what a gate that ran or was skipped decides holds downstream."""
        if step.kind == "gate" and o.action in ("ran", "skipped"):
            from mlops_nb.pipeline.gate import holds

            again = hints.rerun_gate(self.pipeline, step.name, self.runs_dir)
            h = holds(step.name, o.run_folder, self.runs_dir, again)
            if h:
                self.held[step.name] = h
        self.outcomes.append(o)
        self.emit(o)

    def _context(self, p: Plan) -> StepContext:
        return StepContext(
            self.pipeline,
            p,
            self.states,
            self.runs_dir,
            self.run_id,
            self.cancel,
            self.workers,
            done=self.outcomes,
        )


def _run_wave(
    context: Callable[[Plan], StepContext], plans: list[Plan], workers: int | None
) -> list[tuple[Plan, Outcome]]:
    """Run a wave's stale steps, each through its kind. Independent steps (notebooks, sweeps,
    gates) at the same time; a report step reports on the runs of this pipeline, so it waits
    for the other steps of its wave."""
    results: list[tuple[Plan, Outcome]] = []
    for group in (
        [p for p in plans if p.step.kind != "report"],
        [p for p in plans if p.step.kind == "report"],
    ):
        if not group:
            continue
        n = max(1, min(len(group), workers or os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="mlops-nb-step") as pool:
            futures = [(p, pool.submit(run_step, context(p))) for p in group]
            results += [(p, fut.result()) for p, fut in futures]
    return results


def _pipeline_record(result: PipelineResult, states: dict[str, StepState]) -> dict[str, Any]:
    return {
        "id": result.run_id,
        "pipeline": result.pipeline.name,
        "file": str(result.pipeline.path),
        "finished_at": store.utc_now(),
        "ok": result.ok,
        "steps": {
            o.step: {
                "action": o.action,
                "status": o.status,
                "run_id": o.run_id,
                "reasons": o.reasons,
                "detail": o.detail,
                "upstream": states[o.step].consumed if o.step in states else {},
            }
            for o in result.outcomes
        },
    }


def mark_done(pipeline: Pipeline, runs_dir: Path, step_name: str) -> Plan:
    """Accept the step's current state as done (a cosmetic edit) without running it."""
    if step_name not in pipeline.steps:
        raise ConfigError(
            f"no step {step_name!r} in {pipeline.path}; steps: {', '.join(pipeline.steps)}."
        )
    sstore = StateStore(runs_dir, pipeline.name)
    with sstore.lock():
        states = sstore.load()
        old = states.get(step_name)
        if old is None or (old.run_id is None and pipeline.steps[step_name].report is None):
            raise ConfigError(
                f"step {step_name!r} has never run successfully, so there is no result to accept; "
                f"run it with `{hints.command(pipeline, 'run', runs_dir=runs_dir)}`."
            )
        p = _plan_all(pipeline, states, runs_dir)[step_name]
        states[step_name] = dataclasses.replace(
            old,
            fingerprint=p.fingerprint,
            parts=p.parts,
            status="ok",
            consumed=consumed(pipeline.steps[step_name], states),
            marked_done=True,
        )
        sstore.save(states)
    return p
