"""Run or inspect a pipeline of notebooks (default file: notebooks/pipeline.yaml).

run        run the steps that are stale (all with --force, one with --force STEP; the file
           may follow a bare --force: --force pipeline.yaml)
status     each step: up to date, or stale and why
show       the DAG as text, or as a Mermaid diagram (--format mermaid)
mark-done  accept a step's current state without running it (e.g. after a cosmetic edit)
export     the pipeline for DVC (dvc.yaml), Kubeflow Pipelines (IR YAML) or Argo Workflows
select     (inside exported pipelines) copy the best grid candidate's folder downstream
"""

from __future__ import annotations

import argparse
from typing import Any

from mlops_nb.commands._common import add_runs_dir, positive_int
from mlops_nb.commands._track import add_track, tracking


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = sub.add_parser("run", help="run the stale steps", description="Run the stale steps.")
    r.add_argument("file", nargs="?", metavar="FILE", help="pipeline file")
    r.add_argument(
        "--force",
        nargs="?",
        const="*",  # _pipeline_file.ALL
        action="append",
        metavar="STEP",
        help="re-run every step, or only STEP (repeatable)",
    )
    r.add_argument(
        "--workers", type=positive_int, metavar="N", help="parallel kernels (default: CPU count)"
    )
    add_track(r)
    r.add_argument(
        "--no-fork",
        action="store_true",
        help="start every kernel as a new process instead of forking it from a template that "
        "has imported what the steps import (for libraries that are not safe after fork())",
    )
    s = sub.add_parser("status", help="up to date / stale, and why")
    s.add_argument("file", nargs="?", metavar="FILE", help="pipeline file")
    s.add_argument("--json", action="store_true", help="print the status as JSON")
    sh = sub.add_parser("show", help="the DAG as text or Mermaid")
    sh.add_argument("file", nargs="?", metavar="FILE", help="pipeline file")
    sh.add_argument("--format", choices=("text", "mermaid"), default="text")
    m = sub.add_parser("mark-done", help="accept a step's current state without running it")
    m.add_argument("step", metavar="STEP")
    m.add_argument("file", nargs="?", metavar="FILE", help="pipeline file")
    for p in (r, s, m):
        add_runs_dir(p)
    from mlops_nb.commands import pipeline_export

    pipeline_export.add_parsers(sub)


def run(args: argparse.Namespace) -> int:
    from mlops_nb.commands._pipeline_file import file_and_force, load_pipeline
    from mlops_nb.store.runs import resolve_runs_dir

    if args.action in ("export", "select"):
        from mlops_nb.commands import pipeline_export

        return pipeline_export.run(args)
    if args.action == "run":
        args.file, args.force = file_and_force(args.file, args.force)
    pipeline = load_pipeline(args.file)
    if args.action == "show":
        return _show(pipeline, args.format)
    runs_dir = resolve_runs_dir(args.runs_dir or pipeline.runs_dir)
    if args.action == "status":
        return _status(pipeline, runs_dir, as_json=args.json)
    if args.action == "mark-done":
        return _mark_done(pipeline, runs_dir, args.step)
    with tracking(args):
        return _run(pipeline, runs_dir, args.force, args.workers, fork=not args.no_fork)


def _show(pipeline: Any, fmt: str) -> int:
    from mlops_nb import output

    if fmt == "mermaid":
        output.out("flowchart LR")
        for name, step in pipeline.steps.items():
            label = f"{name}<br/>{step.notebook.name if step.notebook else step.kind}"
            if step.grid:
                label += "<br/>sweep: " + " x ".join(f"{k}[{len(v)}]" for k, v in step.grid.items())
            output.out(f'    {name}["{label}"]')
        for name, step in pipeline.steps.items():
            for up in step.upstream:
                output.out(f"    {up} --> {name}")
        return 0
    output.out(f"pipeline {pipeline.name} ({pipeline.path})")
    for i, wave in enumerate(pipeline.levels()):
        for name in wave:
            step = pipeline.steps[name]
            what = step.notebook.name if step.notebook else step.kind
            if step.gate:
                what += f"  if {step.gate['rule']}"
            if step.grid:
                sel = step.select or {}
                what += f"  sweep over {', '.join(step.grid)}; best by {sel.get('metric')} ({sel.get('mode')})"
            ups = f"  <- {', '.join(step.upstream)}" if step.upstream else ""
            output.out(f"  [{i + 1}] {name}: {what}{ups}")
    return 0


def _status(pipeline: Any, runs_dir: Any, *, as_json: bool) -> int:
    from mlops_nb import output
    from mlops_nb.pipeline.engine import plan
    from mlops_nb.pipeline.gate import held_steps, pending_approvals
    from mlops_nb.pipeline.hints import rerun_gate
    from mlops_nb.registry import api as registry
    from mlops_nb.store.hints import command

    plans = plan(pipeline, runs_dir)
    pending = pending_approvals(pipeline, runs_dir)
    held = held_steps(pipeline, runs_dir, lambda gate: rerun_gate(pipeline, gate, runs_dir))
    if as_json:
        output.print_json(
            [
                {
                    "step": p.step.name,
                    "up_to_date": not p.stale,
                    "reasons": p.reasons,
                    "fingerprint": p.fingerprint,
                    **({"pending": pending.get(p.step.name, [])} if p.step.gate else {}),
                    **(
                        {"held": dict(zip(("action", "why"), held[p.step.name], strict=True))}
                        if p.step.name in held
                        else {}
                    ),
                }
                for p in plans
            ]
        )
        return 0
    width = max(len(p.step.name) for p in plans)
    for p in plans:
        state = "stale" if p.stale else "up to date"
        why = f"  ({'; '.join(p.reasons)})" if p.stale else ""
        if p.step.name in held:  # what the next run does with it while the gate stands
            why += f"  -> {held[p.step.name][0]}: {held[p.step.name][1]}"
        output.out(f"  {p.step.name:<{width}}  {state}{why}")
    for step, items in pending.items():
        for item in items:
            # other requests pending too: `approve MODEL` alone would ask which, so name these
            others = len(registry.pending(runs_dir, [item["model"]])) > 1
            which = [w for a in item["aliases"] for w in ("--alias", a)] if others else []
            approve, reject = (
                command(a, item["model"], *which, runs_dir=runs_dir) for a in _DECIDE
            )
            output.out(
                f"pending approval ({step}): {item['model']} v{item['version']} -> "
                f"{', '.join(item['aliases'])}; `{approve}` or `{reject}`"
            )
    return 0


_DECIDE = ("approve", "reject")


def _mark_done(pipeline: Any, runs_dir: Any, step: str) -> int:
    from mlops_nb import output
    from mlops_nb.pipeline.engine import mark_done

    p = mark_done(pipeline, runs_dir, step)
    output.out(f"marked {step} as up to date (fingerprint {p.fingerprint[:12]})")
    return 0


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _line(o: Any, step: Any, width: int) -> str:
    keys = list(step.show) or [k for k in o.scraps if not k.startswith("_")][:4]
    shown = ", ".join(f"{k}={_fmt(o.scraps[k])}" for k in keys if k in o.scraps)
    parts = [f"  {o.step:<{width}}  {o.action:<8}"]
    if o.run_id:
        parts.append(o.run_id)
    if o.params:
        parts.append(", ".join(f"{k}={v}" for k, v in o.params.items()))
    if shown:
        parts.append(shown)
    absent = [k for k in step.show if k not in o.scraps] if o.status == "ok" else []
    if absent:  # say so rather than show nothing; often by design (no champion yet to compare)
        parts.append(f"(not in this run: {', '.join(absent)})")
    if o.detail:
        parts.append(o.detail)
    if o.action == "ran" and o.reasons:
        parts.append(f"[{'; '.join(o.reasons)}]")
    return "  ".join(parts)


def _run(
    pipeline: Any, runs_dir: Any, force: list[str] | None, workers: int | None, *, fork: bool
) -> int:
    import time

    from mlops_nb import output
    from mlops_nb.commands._pipeline_file import forced_steps
    from mlops_nb.errors import EXIT_FAILED
    from mlops_nb.pipeline.engine import run as run_pipeline
    from mlops_nb.pipeline.hints import command

    forced = forced_steps(pipeline, force)
    width = max(len(n) for n in pipeline.steps)
    output.out(f"pipeline {pipeline.name}: {len(pipeline.steps)} steps, runs in {runs_dir}")
    t0 = time.monotonic()
    result = run_pipeline(
        pipeline,
        runs_dir=runs_dir,
        force=forced,
        workers=workers,
        fork=fork,
        on_event=lambda o: output.out(_line(o, pipeline.steps[o.step], width)),
    )
    counts: dict[str, int] = {}
    for o in result.outcomes:
        counts[o.action] = counts.get(o.action, 0) + 1
    summary = ", ".join(f"{n} {a}" for a, n in counts.items())
    output.out(f"done in {time.monotonic() - t0:.1f} s: {summary}")
    waits: dict[str, list[str]] = {}  # approve command -> the steps that wait for it
    for o in result.outcomes:
        if o.action == "waiting":
            waits.setdefault(o.detail.removeprefix("pending approval: "), []).append(o.step)
    again = command(pipeline, "run", runs_dir=runs_dir)
    for approve, steps in waits.items():
        output.out(
            f"waiting for approval: `{approve}` (or reject), then `{again}` runs {', '.join(steps)}"
        )
    return 0 if result.ok else EXIT_FAILED
