"""The ``notebook`` step kind: one run of the step's notebook, on a kernel forked from the
pipeline's preloaded template (``pipeline.kernels``). A ``pipeline.steps.StepKind``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mlops_nb.errors import MlopsNbError
from mlops_nb.pipeline import kernels
from mlops_nb.pipeline.spec import UPSTREAM_PARAM, Step
from mlops_nb.pipeline.steps import Outcome, StepContext, consumed, remember
from mlops_nb.store import runs as store

if TYPE_CHECKING:
    from mlops_nb.pipeline.spec import Pipeline
    from mlops_nb.pipeline.state import StepState


def prepare(pipeline: Pipeline, run_id: str) -> None:
    """Start the fork servers (the template imports while the steps before this one run) and
    import the run machinery here, before the step threads start: a thread importing while a
    sweep step's pool forks this process could leave the child a module lock nobody releases."""
    import mlops_nb.execution.api
    import mlops_nb.execution.runner  # noqa: F401

    kernels.start(run_id)


def run(ctx: StepContext) -> Outcome:
    """Run the step's notebook once; its record's status is the step's."""
    from mlops_nb.execution import runner
    from mlops_nb.execution.api import Run

    step = ctx.step
    assert step.notebook is not None
    t0 = time.monotonic()
    try:
        spec = runner.prepare(
            step.notebook,
            {**step.params, **upstream_params(step, ctx.states)},
            runs_dir=ctx.runs_dir,
            name=step.name,
            timeout=step.timeout,
            kernel_name=step.kernel,
            pipeline=run_meta(ctx),
        )
        folder = runner.execute_run(
            spec,
            handle_signals=False,
            cancel=ctx.cancel,
            kernel_manager_factory=kernels.factory_for(ctx.run_id, spec),
        )
    except MlopsNbError as e:
        return ctx.failed(e.message)
    rec = store.read_record(folder)
    remember(ctx, rec["status"], rec["id"], str(folder.resolve()))
    action = {"ok": "ran", "interrupted": "interrupted"}.get(rec["status"], "failed")
    return Outcome(
        step.name,
        action,
        status=rec["status"],
        run_id=rec["id"],
        run_folder=str(folder),
        reasons=ctx.plan.reasons,
        scraps=rec.get("scraps") or {},
        detail=Run(folder, rec).error_line() if rec.get("error") else "",
        seconds=time.monotonic() - t0,
    )


def run_meta(ctx: StepContext) -> dict[str, Any]:
    """The ``pipeline`` block of a step's run records (lineage: which upstream runs it used)."""
    return {
        "name": ctx.pipeline.name,
        "file": str(ctx.pipeline.path),
        "run_id": ctx.run_id,
        "step": ctx.step.name,
        "fingerprint": ctx.plan.fingerprint,
        "upstream": consumed(ctx.step, ctx.states),
    }


def upstream_params(step: Step, states: dict[str, StepState]) -> dict[str, Any]:
    """The ``upstream`` parameter: ``{upstream step: its run folder}``."""
    if not step.upstream:
        return {}
    return {UPSTREAM_PARAM: {u: states[u].run_folder for u in step.upstream}}
