"""Run a pipeline: plan each step (up to date or stale, and why), run what is stale, record it.

Steps run wave by wave in topological order; the steps of one wave run at the same time
(threads; a notebook step on one kernel forked from a preloaded template, ``pipeline.kernels``;
a sweep step with its own worker pool). A step receives its upstream steps'
run folders in its ``upstream`` parameter. State is saved after every step, so an interrupted or
failed pipeline resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb.errors import MlopsNbError, RunInterrupted
from mlops_nb.interrupts import on_interrupt
from mlops_nb.pipeline import fingerprint as fp
from mlops_nb.pipeline import kernels
from mlops_nb.pipeline.spec import UPSTREAM_PARAM, Pipeline, Step
from mlops_nb.pipeline.state import StateStore, StepState
from mlops_nb.store import runs as store
from mlops_nb.store import settle

OK_ACTIONS = ("ran", "skipped", "marked", "waiting", "held")


@dataclass
class Plan:
    step: Step
    parts: fp.Parts
    fingerprint: str
    reasons: list[str]  # empty: up to date

    @property
    def stale(self) -> bool:
        return bool(self.reasons)


@dataclass
class Outcome:
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


def plan_step(
    pipeline: Pipeline,
    step: Step,
    states: dict[str, StepState],
    upstream_fps: dict[str, str],
    runs_dir: Path | None = None,
) -> Plan:
    extra: dict[str, Any] = {}
    if step.grid:
        extra = {"grid": step.grid, "select": step.select}
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
        parts = fp.notebook_parts(
            step.notebook, params, upstream_fps, roots=roots(pipeline), extra=extra
        )
    digest = parts.digest()
    old = states.get(step.name)
    reasons = fp.reasons(old.parts if old else None, parts)
    if old is not None:
        if old.status != "ok":
            reasons.append(f"last run {old.status}")
        elif (
            step.kind in ("notebook", "sweep")  # a run folder (gates and reports keep no notebook)
            and old.run_folder
            and Path(old.run_folder).is_dir()
            and not store.ran_clean(Path(old.run_folder))
        ):
            reasons.append("last run stopped at a kernel error")
        if (
            step.report is None
            and (old.run_folder or old.status == "ok")  # a failed first attempt never had one
            and not (old.run_folder and Path(old.run_folder).is_dir())
        ):
            reasons.append("its run folder is gone")
        for up in step.upstream:
            current = states.get(up)
            if (
                current
                and old.consumed.get(up) != current.run_id
                and not any(r.startswith(f"upstream {up} ") for r in reasons)
            ):
                reasons.append(f"upstream {up} was re-run")
        if old.fingerprint != digest and not reasons:
            reasons.append("fingerprint changed")
    return Plan(step, parts, digest, reasons)


def plan(pipeline: Pipeline, runs_dir: Path) -> list[Plan]:
    """Every step's state as things are now (what `pipeline status` prints)."""
    states = StateStore(runs_dir, pipeline.name).load()
    plans: dict[str, Plan] = {}
    for name in pipeline.order():
        step = pipeline.steps[name]
        ups = {u: plans[u].fingerprint for u in step.upstream}
        plans[name] = plan_step(pipeline, step, states, ups, runs_dir)
    return list(plans.values())


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
    ``fork`` is False (``pipeline.kernels``)."""
    sstore = StateStore(runs_dir, pipeline.name)
    run_id = store.new_run_id(pipeline.name)
    cancel = threading.Event()
    outcomes: list[Outcome] = []
    emit = on_event or (lambda o: None)
    with sstore.lock(), _signals(cancel), kernels.opened(run_id, pipeline, fork=fork):
        settle.settle_all(runs_dir)  # step runs whose driver died: written down as lost
        states = sstore.load()
        fps: dict[str, str] = {}
        failed: set[str] = set()
        held: dict[str, tuple[str, str]] = {}  # step -> (waiting|held, why): a gate's decision
        for wave in pipeline.levels():
            todo: list[Plan] = []
            for name in wave:
                step = pipeline.steps[name]
                p = plan_step(pipeline, step, states, {u: fps[u] for u in step.upstream}, runs_dir)
                fps[name] = p.fingerprint
                blocked = [u for u in step.upstream if u in failed]
                holding = sorted((held[u] for u in step.upstream if u in held), reverse=True)
                if holding and not blocked and step.kind != "report" and not cancel.is_set():
                    held[name] = holding[0]  # "waiting" before "held"
                    o = Outcome(name, holding[0][0], detail=holding[0][1])
                elif blocked or cancel.is_set():
                    failed.add(name)
                    o = Outcome(
                        name,
                        "blocked",
                        detail=f"upstream {', '.join(blocked)} did not succeed"
                        if blocked
                        else "interrupted before it started",
                    )
                elif p.stale or force is True or (isinstance(force, set) and name in force):
                    todo.append(p)
                    continue
                else:
                    st = states[name]
                    o = Outcome(
                        name,
                        "skipped",
                        status="ok",
                        run_id=st.run_id,
                        run_folder=st.run_folder,
                        scraps=_scraps(st.run_folder) if step.report is None else {},
                        detail=(st.run_folder or "") if step.report is not None else "",
                    )
                    _hold(held, step, o, runs_dir)
                outcomes.append(o)
                emit(o)
            for p, o in _run_wave(
                pipeline, todo, states, runs_dir, run_id, cancel, workers, done=outcomes
            ):
                if o.action != "ran":
                    failed.add(p.step.name)
                _hold(held, p.step, o, runs_dir)
                outcomes.append(o)
                emit(o)
                sstore.save(states)
            if cancel.is_set():
                break
        result = PipelineResult(pipeline, run_id, outcomes)
        result.record_path = sstore.save_run(run_id, _pipeline_record(result, states))
    if cancel.is_set():
        raise RunInterrupted(
            f"pipeline {pipeline.name} interrupted; finished steps are recorded, "
            "run `mlops-nb pipeline run` again to resume."
        )
    return result


def _hold(held: dict[str, tuple[str, str]], step: Step, o: Outcome, runs_dir: Path) -> None:
    """Note what a gate that ran or was skipped decides for the steps downstream of it."""
    if step.kind == "gate" and o.action in ("ran", "skipped"):
        from mlops_nb.pipeline.gate import holds

        h = holds(step.name, o.run_folder, runs_dir)
        if h:
            held[step.name] = h


def _run_wave(
    pipeline: Pipeline,
    plans: list[Plan],
    states: dict[str, StepState],
    runs_dir: Path,
    run_id: str,
    cancel: threading.Event,
    workers: int | None,
    done: list[Outcome] | None = None,
) -> list[tuple[Plan, Outcome]]:
    results: list[tuple[Plan, Outcome]] = []
    if any(p.step.notebook is not None for p in plans):
        kernels.start(run_id)  # the fork template imports while the first kernels are asked for
    # Independent steps (notebooks, sweeps, gates) at the same time; a report step reports on the
    # runs of this pipeline, so it waits for the other steps of its wave.
    for group in (
        [p for p in plans if p.step.kind != "report"],
        [p for p in plans if p.step.kind == "report"],
    ):
        if not group:
            continue
        n = max(1, min(len(group), workers or pipeline.workers or os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="mlops-nb-step") as pool:
            futures = [
                (
                    p,
                    pool.submit(
                        _run_step, pipeline, p, states, runs_dir, run_id, cancel, workers, done
                    ),
                )
                for p in group
            ]
            for p, fut in futures:
                results.append((p, fut.result()))
    return results


def _run_step(
    pipeline: Pipeline,
    p: Plan,
    states: dict[str, StepState],
    runs_dir: Path,
    run_id: str,
    cancel: threading.Event,
    workers: int | None,
    done: list[Outcome] | None = None,
) -> Outcome:
    if p.step.kind == "notebook":
        return _run_notebook_step(pipeline, p, states, runs_dir, run_id, cancel)
    if cancel.is_set():
        return Outcome(p.step.name, "blocked", detail="interrupted")
    if p.step.kind == "report":
        return _run_report_step(pipeline, p, states, runs_dir, run_id, cancel, workers, done)
    runner = _run_sweep_step
    if p.step.kind == "gate":
        from mlops_nb.pipeline.gate import run_gate_step as runner
    return runner(pipeline, p, states, runs_dir, run_id, cancel, workers)


def _upstream_params(step: Step, states: dict[str, StepState]) -> dict[str, Any]:
    if not step.upstream:
        return {}
    return {UPSTREAM_PARAM: {u: states[u].run_folder for u in step.upstream}}


def _consumed(step: Step, states: dict[str, StepState]) -> dict[str, str | None]:
    # None: an upstream step that never ran (a report step runs while a gate holds it back)
    return {u: s.run_id if (s := states.get(u)) else None for u in step.upstream}


def _run_notebook_step(
    pipeline: Pipeline,
    p: Plan,
    states: dict[str, StepState],
    runs_dir: Path,
    run_id: str,
    cancel: threading.Event,
) -> Outcome:
    from mlops_nb.execution import runner
    from mlops_nb.execution.api import Run

    step = p.step
    assert step.notebook is not None
    if cancel.is_set():  # queued behind other steps of the wave when Ctrl-C came
        return Outcome(step.name, "blocked", detail="interrupted before it started")
    t0 = time.monotonic()
    try:
        spec = runner.prepare(
            step.notebook,
            {**step.params, **_upstream_params(step, states)},
            runs_dir=runs_dir,
            name=step.name,
            timeout=step.timeout,
            kernel_name=step.kernel,
            pipeline=_run_meta(pipeline, run_id, step, p, states),
        )
        folder = runner.execute_run(
            spec,
            handle_signals=False,
            cancel=cancel,
            kernel_manager_factory=kernels.factory_for(run_id, spec),
        )
    except MlopsNbError as e:
        return Outcome(step.name, "failed", detail=e.message, reasons=p.reasons)
    rec = store.read_record(folder)
    _remember(states, step, p, rec["status"], rec["id"], str(folder.resolve()), None)
    action = (
        "ran"
        if rec["status"] == "ok"
        else ("interrupted" if rec["status"] == "interrupted" else "failed")
    )
    err = rec.get("error") or {}
    return Outcome(
        step.name,
        action,
        status=rec["status"],
        run_id=rec["id"],
        run_folder=str(folder),
        reasons=p.reasons,
        scraps=rec.get("scraps") or {},
        detail=Run(folder, rec).error_line() if err else "",
        seconds=time.monotonic() - t0,
    )


def _run_sweep_step(
    pipeline: Pipeline,
    p: Plan,
    states: dict[str, StepState],
    runs_dir: Path,
    run_id: str,
    cancel: threading.Event,
    workers: int | None,
) -> Outcome:
    from mlops_nb.sweep.api import sweep

    step = p.step
    assert step.notebook is not None and step.grid is not None
    t0 = time.monotonic()
    try:
        result = sweep(
            step.notebook,
            grid=step.grid,
            params={**step.params, **_upstream_params(step, states)},
            runs_dir=runs_dir,
            workers=workers or pipeline.workers,
            timeout=step.timeout,
            kernel_name=step.kernel,
            name=step.name,
            # run while up to date: --force, so the sweep must not resume from its old runs
            force=not p.stale,
            extra={"pipeline": _run_meta(pipeline, run_id, step, p, states)},
            **kernels.sweep_options(run_id),
        )
    except RunInterrupted:
        cancel.set()
        return Outcome(step.name, "interrupted", reasons=p.reasons)
    except MlopsNbError as e:
        return Outcome(step.name, "failed", detail=e.message, reasons=p.reasons)
    if getattr(result, "status", None) == "interrupted":
        cancel.set()
        return Outcome(step.name, "interrupted", reasons=p.reasons, detail="sweep interrupted")
    runs = [r for r in result.runs if r.status == "ok"]
    metric, mode = (step.select or {}).get("metric"), (step.select or {}).get("mode", "max")
    scored = [
        r for r in runs if metric and isinstance(r.record["scraps"].get(metric), (int, float))
    ]
    if not scored:
        why = (
            f"no successful run glued a numeric {metric!r}"
            if metric
            else "a grid step needs select: {metric: NAME, mode: max|min}"
        )
        _remember(states, step, p, "failed", None, None, result.id)
        return Outcome(
            step.name,
            "failed",
            detail=f"{len(runs)}/{len(result.runs)} runs ok; {why}",
            reasons=p.reasons,
            seconds=time.monotonic() - t0,
        )
    best = (max if mode == "max" else min)(scored, key=lambda r: r.record["scraps"][metric])
    _remember(states, step, p, "ok", best.id, str(best.path.resolve()), result.id)
    n_failed = len(result.runs) - len(runs)
    return Outcome(
        step.name,
        "ran",
        status="ok",
        run_id=best.id,
        run_folder=str(best.path),
        reasons=p.reasons,
        scraps=best.record.get("scraps") or {},
        params={k: best.params.get(k) for k in step.grid},
        detail=f"best of {len(result.runs)} runs by {metric} ({mode})"
        + (f"; {n_failed} failed" if n_failed else ""),
        seconds=time.monotonic() - t0,
    )


def _run_report_step(
    pipeline: Pipeline,
    p: Plan,
    states: dict[str, StepState],
    runs_dir: Path,
    run_id: str,
    cancel: threading.Event,
    workers: int | None,
    done: list[Outcome] | None = None,
) -> Outcome:
    from mlops_nb.report.build import build_report

    step = p.step
    opts = dict(step.report or {})
    given = opts.pop("output", None)
    # a given path is relative to the pipeline file; by default the report goes into the store
    output = pipeline.root / str(given) if given else runs_dir / "report.html"
    t0 = time.monotonic()
    try:
        # A pipeline declares where its report goes: its folder is made, as for any output.
        output.parent.mkdir(parents=True, exist_ok=True)
        # This pipeline's runs (every invocation), unless the step names other filters.
        opts.setdefault("pipeline", pipeline.name)
        path = build_report(
            runs_dir,
            output=output,
            current=_so_far(pipeline, run_id, states, step.name, done),
            title=str(opts.pop("title", f"{pipeline.name} pipeline")),
            **opts,
        )
    except MlopsNbError as e:
        return Outcome(step.name, "failed", detail=e.message, reasons=p.reasons)
    except TypeError as e:
        return Outcome(
            step.name, "failed", detail=f"invalid report options: {e}", reasons=p.reasons
        )
    except OSError as e:
        return Outcome(
            step.name, "failed", detail=f"cannot write {output}: {e.strerror}", reasons=p.reasons
        )
    _remember(states, step, p, "ok", None, str(path), None)
    return Outcome(
        step.name,
        "ran",
        status="ok",
        detail=str(path),
        reasons=p.reasons,
        seconds=time.monotonic() - t0,
    )


def _remember(
    states: dict[str, StepState],
    step: Step,
    p: Plan,
    status: str,
    run_id: str | None,
    folder: str | None,
    sweep_id: str | None,
) -> None:
    old = states.get(step.name)
    if status != "ok" and old is not None and old.status == "ok":
        # keep the last good run to hand downstream, but remember the attempt failed
        states[step.name] = StepState(
            old.fingerprint,
            old.parts,
            old.run_id,
            old.run_folder,
            status,
            old.consumed,
            False,
            old.sweep_id,
        )
        return
    states[step.name] = StepState(
        p.fingerprint, p.parts, run_id, folder, status, _consumed(step, states), False, sweep_id
    )


def _run_meta(
    pipeline: Pipeline, run_id: str, step: Step, p: Plan, states: dict[str, StepState]
) -> dict[str, Any]:
    return {
        "name": pipeline.name,
        "file": str(pipeline.path),
        "run_id": run_id,
        "step": step.name,
        "fingerprint": p.fingerprint,
        "upstream": _consumed(step, states),
    }


def _so_far(
    pipeline: Pipeline,
    run_id: str,
    states: dict[str, StepState],
    me: str,
    done: list[Outcome] | None = None,
) -> dict[str, Any]:
    """This invocation's steps until now, for the report's headline (the record comes later).
    With ``done`` (the outcomes so far) each step says what happened to it in this invocation."""
    if done is not None:
        steps = {
            o.step: {
                # as the headline names a step this invocation did not need to run
                "action": "up to date" if o.action == "skipped" else o.action,
                "status": o.status,
                "run_id": o.run_id,
                "detail": o.detail,
                "upstream": states[o.step].consumed
                if o.step in states
                else dict.fromkeys(pipeline.steps[o.step].upstream),
            }
            for o in list(done)
            if o.step != me
        }
        return {"id": run_id, "pipeline": pipeline.name, "file": str(pipeline.path), "steps": steps}
    steps = {
        n: {"status": s.status, "run_id": s.run_id, "upstream": s.consumed}
        for n in pipeline.order()
        if n != me and (s := states.get(n)) is not None
    }
    return {"id": run_id, "pipeline": pipeline.name, "file": str(pipeline.path), "steps": steps}


def _scraps(folder: str | None) -> dict[str, Any]:
    if not folder:
        return {}
    try:
        return dict(store.read_record(Path(folder)).get("scraps") or {})
    except MlopsNbError:
        return {}


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
    from mlops_nb.errors import ConfigError

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
                "run it with `mlops-nb pipeline run`."
            )
        plans = {p.step.name: p for p in plan(pipeline, runs_dir)}
        p = plans[step_name]
        step = pipeline.steps[step_name]
        states[step_name] = StepState(
            p.fingerprint,
            p.parts,
            old.run_id,
            old.run_folder,
            "ok",
            _consumed(step, states),
            True,
            old.sweep_id,
        )
        sstore.save(states)
    return p


def _signals(cancel: threading.Event) -> contextlib.AbstractContextManager[None]:
    """SIGINT/SIGTERM set ``cancel``: running steps stop and are recorded, nothing new starts."""
    return on_interrupt(cancel.set)
