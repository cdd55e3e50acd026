"""The ``report`` step kind: the HTML report of this pipeline's runs (``report.build``).

    report:
      upstream: [evaluate, monitor]
      report: {title: "...", sort: f1, output: report.html}   # default: <runs>/report.html

Its options are ``build_report``'s keywords, typed in ``pipeline.report_options`` and checked when
the pipeline file is read. A ``pipeline.steps.StepKind``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mlops_nb.errors import MlopsNbError
from mlops_nb.pipeline import kernels
from mlops_nb.pipeline.steps import Outcome, StepContext, remember

if TYPE_CHECKING:
    from mlops_nb.pipeline.spec import Pipeline

# What building a report imports (pandas, seaborn, matplotlib: seconds): `prepare` imports them
# in the background while the steps before the report run.
REPORT_IMPORTS = (
    "mlops_nb.report.build",
    "mlops_nb.results.collect",
    "pandas",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "seaborn",
)


def prepare(pipeline: Pipeline, run_id: str) -> None:
    """Import what the report needs in the background (``kernels.warm``)."""
    kernels.warm(run_id, REPORT_IMPORTS)


def run(ctx: StepContext) -> Outcome:
    """Write the report of this pipeline's runs (every invocation, unless the step names other
    filters), with this invocation's steps so far as its headline."""
    kernels.settle(ctx.run_id)  # its imports, started in the background, done first
    from mlops_nb.report.build import build_report

    pipeline, step = ctx.pipeline, ctx.step
    opts = dict(step.report or {})
    given = opts.pop("output", None)
    # a given path is relative to the pipeline file; by default the report goes into the store
    output = pipeline.root / str(given) if given else ctx.runs_dir / "report.html"
    opts.setdefault("pipeline", pipeline.name)
    t0 = time.monotonic()
    try:
        # A pipeline declares where its report goes: its folder is made, as for any output.
        output.parent.mkdir(parents=True, exist_ok=True)
        path = build_report(
            ctx.runs_dir,
            output=output,
            current=so_far(pipeline, ctx.run_id, ctx.states, step.name, ctx.done),
            title=str(opts.pop("title", f"{pipeline.name} pipeline")),
            **opts,
        )
    except MlopsNbError as e:
        return ctx.failed(e.message)
    except OSError as e:
        return ctx.failed(f"cannot write {output}: {e.strerror}")
    remember(ctx, "ok", None, str(path))
    return Outcome(
        step.name,
        "ran",
        status="ok",
        detail=str(path),
        reasons=ctx.plan.reasons,
        seconds=time.monotonic() - t0,
    )


def so_far(
    pipeline: Pipeline,
    run_id: str,
    states: Mapping[str, Any],
    me: str,
    done: Sequence[Outcome],
) -> dict[str, Any]:
    """This invocation's steps until now, for the report's headline (the record comes later):
    each step says what happened to it in this invocation."""
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
