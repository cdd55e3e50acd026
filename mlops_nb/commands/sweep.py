"""Run a notebook over many parameter sets, in parallel, with progress; re-invoking resumes.

Sets come from --grid FILE.yaml (name: [values...], the cartesian product; --sample N draws N of
them) or --list FILE (a YAML list of mappings, or a CSV file with a header row); -p/-r/-y/-f give
values shared by every run (not for a parameter the grid or list sets). Every set is checked
against the notebook's parameters before anything runs. Each run gets a fresh kernel, started ahead
of time. Sets this sweep already ran (same code, parameters and inputs) are skipped unless --force;
runs made outside the sweep do not count. The sweep record is runs/sweeps/<sweep id>.json.
Exit code: 0 all ok, 1 some runs failed, 2 bad usage or parameters, 130 interrupted.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from mlops_nb.commands._common import (
    add_kernel,
    add_param_flags,
    add_runs_dir,
    positive_float,
    positive_int,
)
from mlops_nb.commands._track import add_track, tracking

if TYPE_CHECKING:
    from mlops_nb.sweep.api import Sweep
    from mlops_nb.sweep.preload import Kernels


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


# The "execution" group: (flag, add_argument keywords), in --help's order.
_EXECUTION: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "--executor",
        {
            "default": "local",
            "metavar": "NAME",
            "help": "serial, local (a process pool, default) or dask",
        },
    ),
    (
        "--workers",
        {"type": positive_int, "metavar": "N", "help": "runs at once (default: one per CPU)"},
    ),
    (
        "--scheduler",
        {
            "metavar": "ADDR",
            "help": "dask scheduler address, e.g. tcp://host:8786 (default: a LocalCluster)",
        },
    ),
    (
        "--timeout",
        {
            "type": positive_float,
            "metavar": "S",
            "help": "stop a run after S seconds (status 'timeout')",
        },
    ),
    (
        "--retries",
        {
            "type": _non_negative_int,
            "default": 0,
            "metavar": "N",
            "help": "retry a run whose kernel died or failed to start (not cell errors)",
        },
    ),
    ("--force", {"action": "store_true", "help": "re-run sets that already succeeded"}),
    ("--fail-fast", {"action": "store_true", "help": "stop launching after a failure"}),
    (
        "--preload",
        {
            "metavar": "MODULES",
            "help": "modules imported before a kernel gets its notebook (once, in the template kernels are forked from), e.g. 'pandas,sklearn'; default 'auto' = the fork-safe modules the notebook imports (README: Fork safety)",
        },
    ),
    (
        "--no-preload",
        {
            "dest": "preload",
            "action": "store_const",
            "const": "",
            "help": "preload nothing but what every kernel imports (ipykernel, scrapbook)",
        },
    ),
    (
        "--no-prewarm",
        {"action": "store_true", "help": "start each kernel only when its run begins"},
    ),
    (
        "--no-fork",
        {
            "action": "store_true",
            "help": "start every kernel as a new process instead of forking it from a warmed-up template (slower; for preloaded libraries that are not safe after fork())",
        },
    ),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "notebook", metavar="NOTEBOOK", help="the notebook to run (.ipynb, or Jupytext .py/.md)"
    )
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--grid", metavar="FILE", help="YAML mapping name: [values]; all combinations")
    src.add_argument(
        "--list",
        metavar="FILE",
        dest="list_file",
        help="YAML list of mappings, or CSV with a header row",
    )
    add_param_flags(parser)
    add_kernel(parser)
    parser.add_argument(
        "--sample", type=positive_int, metavar="N", help="run N sets drawn at random from the grid"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="random seed for --sample (default 0, so re-invoking resumes)",
    )
    group = parser.add_argument_group("execution")
    for flag, options in _EXECUTION:
        group.add_argument(flag, **options)
    parser.add_argument("--name", metavar="LABEL", help="a label for the runs")
    add_runs_dir(parser)
    parser.add_argument(
        "--cwd",
        metavar="DIR",
        help="working directory of the kernels (default: the notebook's folder)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("--json", action="store_true", help="print the sweep record as JSON")
    add_track(parser)


def _kernels(args: argparse.Namespace) -> Kernels:
    return {
        "cwd": args.cwd,
        "kernel_name": args.kernel_name,
        "preload": args.preload,
        "executor": args.executor,
        "prewarm": not args.no_prewarm,
        "fork": not args.no_fork,
    }


def run(args: argparse.Namespace) -> int:
    from mlops_nb.notebook.io import read_notebook
    from mlops_nb.sweep.preload import start_fork_server

    nb = read_notebook(args.notebook)
    # First thing: the fork server's template imports while this process imports the rest.
    server = start_fork_server(nb, notebook=args.notebook, **_kernels(args))
    try:
        with tracking(args):
            return _run(args, nb)
    finally:
        if server is not None:
            from mlops_nb.kernels.forking import release

            release(server)


def _run(args: argparse.Namespace, nb: dict[str, Any]) -> int:
    from mlops_nb import output
    from mlops_nb.errors import EXIT_FAILED, EXIT_INTERRUPTED
    from mlops_nb.notebook.params import parse_notebook_params
    from mlops_nb.notebook.values import collect_values
    from mlops_nb.sweep.api import sweep

    declared = parse_notebook_params(nb, source=args.notebook)
    result = sweep(
        args.notebook,
        args.grid,
        sets=args.list_file,
        params=collect_values(args.param_flags, declared),
        sample=args.sample,
        seed=args.seed,
        workers=args.workers,
        scheduler=args.scheduler,
        runs_dir=args.runs_dir,
        timeout=args.timeout,
        retries=args.retries,
        force=args.force,
        fail_fast=args.fail_fast,
        name=args.name,
        progress="quiet" if args.quiet else "auto",
        **_kernels(args),
    )
    if args.json:
        output.print_json(result.record)
    else:
        for line in summary_lines(result):
            output.out(line)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return 0 if result.ok else EXIT_FAILED


def summary_lines(result: Sweep) -> list[str]:
    """``sweep <id>: N sets: a ok, b failed ...`` then one line per set that is not ok."""
    rec = result.sweep_record
    resumed = sum(1 for e in rec.runs if e.resumed)
    parts = [f"{n} {status}" for status, n in sorted(rec.counts.items())]
    lines = [
        f"sweep {rec.id}: {len(rec.runs)} sets: {', '.join(parts)}"
        f"{f' ({resumed} already done)' if resumed else ''} in {rec.duration_s or 0:.1f} s"
        f" [{rec.status}]"
    ]
    bad = [e for e in rec.runs if e.status != "ok"]
    if bad:
        lines.append("not ok:")
        for e in bad:
            params = " ".join(f"{k}={v!r}" for k, v in e.params.items())
            err = f"  {e.error}" if e.error else ""
            lines.append(f"  {e.status:<11} {e.run_id or '-'}  {params}{err}")
    lines.append(f"record: {result.path}")
    return lines
