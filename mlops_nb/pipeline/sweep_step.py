"""The ``sweep`` step kind (a step with ``grid:``): a sweep over the grid, whose best run by
``select`` goes downstream. Its workers are forked from the pipeline's template, like the
notebook steps' kernels. A ``pipeline.steps.StepKind``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mlops_nb.errors import MlopsNbError, RunInterrupted
from mlops_nb.pipeline import kernels, notebook_step
from mlops_nb.pipeline.notebook_step import run_meta, upstream_params
from mlops_nb.pipeline.recall import best_of
from mlops_nb.pipeline.steps import Outcome, StepContext, remember

if TYPE_CHECKING:
    from mlops_nb.pipeline.spec import Pipeline


def prepare(pipeline: Pipeline, run_id: str) -> None:
    """The notebook kind's preparation (the same fork servers), and the sweep machinery
    imported before the step threads start (``notebook_step.prepare`` says why)."""
    import mlops_nb.sweep.api  # noqa: F401

    notebook_step.prepare(pipeline, run_id)


def run(ctx: StepContext) -> Outcome:
    """Run (or resume) the sweep; the step's outcome is its best run (``pick_best``)."""
    from mlops_nb.sweep.api import sweep

    step, p = ctx.step, ctx.plan
    assert step.notebook is not None and step.grid is not None
    t0 = time.monotonic()
    try:
        result = sweep(
            step.notebook,
            grid=step.grid,
            params={**step.params, **upstream_params(step, ctx.states)},
            runs_dir=ctx.runs_dir,
            workers=ctx.workers or ctx.pipeline.workers,
            timeout=step.timeout,
            kernel_name=step.kernel,
            name=step.name,
            # run while up to date: --force, so the sweep must not resume from its old runs
            force=not p.stale,
            extra={"pipeline": run_meta(ctx)},
            **kernels.sweep_options(ctx.run_id),
        )
    except RunInterrupted:
        ctx.cancel.set()
        return Outcome(step.name, "interrupted", reasons=p.reasons)
    except MlopsNbError as e:
        return ctx.failed(e.message)
    if getattr(result, "status", None) == "interrupted":
        ctx.cancel.set()
        return Outcome(step.name, "interrupted", reasons=p.reasons, detail="sweep interrupted")
    return pick_best(ctx, result, t0)


def pick_best(ctx: StepContext, result: Any, t0: float) -> Outcome:
    """The sweep step's outcome: its best ``ok`` run by ``select``, handed downstream; failed
    when no successful run glued a number under the metric."""
    step = ctx.step
    assert step.grid is not None
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
        remember(ctx, "failed", sweep_id=result.id)
        outcome = ctx.failed(f"{len(runs)}/{len(result.runs)} runs ok; {why}")
        outcome.seconds = time.monotonic() - t0
        return outcome
    best = (max if mode == "max" else min)(scored, key=lambda r: r.record["scraps"][metric])
    remember(ctx, "ok", best.id, str(best.path.resolve()), result.id)
    n_failed = len(result.runs) - len(runs)
    return Outcome(
        step.name,
        "ran",
        status="ok",
        run_id=best.id,
        run_folder=str(best.path),
        reasons=ctx.plan.reasons,
        scraps=best.record.get("scraps") or {},
        params={k: best.params.get(k) for k in step.grid},
        detail=best_of(len(result.runs), metric, mode, n_failed),
        seconds=time.monotonic() - t0,
    )
