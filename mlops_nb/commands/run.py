"""Run one notebook with parameters, in a fresh kernel, and record the run.

The output notebook and the run record land in RUNS_DIR/<run id>/. Parameters are validated against
the notebook's `parameters` cell before any kernel starts. Exit code: 0 ok, 1 the notebook failed
or timed out, 2 bad usage or parameters, 130 interrupted.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_kernel, add_param_flags, add_runs_dir, positive_float
from mlops_nb.commands._track import add_track, tracking


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "notebook", metavar="NOTEBOOK", help="the notebook to run (.ipynb, or Jupytext .py/.md)"
    )
    add_param_flags(parser)
    add_kernel(parser)
    parser.add_argument("--name", metavar="LABEL", help="a label for the run (kept in the record)")
    add_runs_dir(parser)
    parser.add_argument(
        "--timeout",
        type=positive_float,
        metavar="S",
        help="stop the run after S seconds (status 'timeout')",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="return the earlier successful run with the same code, parameters "
        "and inputs instead of executing",
    )
    parser.add_argument(
        "--cwd",
        metavar="DIR",
        help="working directory of the kernel (default: the notebook's folder)",
    )
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        help="the notebook's output_dir: artifacts land in DIR and are recorded with hashes",
    )
    parser.add_argument(
        "--metrics-file", metavar="F.json", help="write the scalar scraps to F.json (DVC metrics)"
    )
    parser.add_argument(
        "--upstream",
        action="append",
        metavar="NAME=PATH",
        help="an upstream step's output folder, passed in the notebook's upstream parameter "
        "(repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print the run record as JSON")
    parser.add_argument(
        "--log-output",
        action="store_true",
        help="stream the cells' output (prints, results, errors) to the terminal as they run",
    )
    parser.add_argument(
        "--allow-errors",
        action="store_true",
        help="run past failing cells; the run is still 'failed' and the record lists every error",
    )
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="write the parameterized notebook (to RUNS_DIR/prepared/) without executing it, "
        "to open it in Jupyter",
    )
    add_track(parser)


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.errors import EXIT_FAILED
    from mlops_nb.execution.api import run as run_notebook
    from mlops_nb.execution.outputs import parse_upstream
    from mlops_nb.notebook.io import read_notebook
    from mlops_nb.notebook.params import coerced, parse_notebook_params
    from mlops_nb.notebook.values import collect_values
    from mlops_nb.store.lookup import check_name

    check_name(args.name)  # --prepare-only too: the same names as a run
    declared = parse_notebook_params(read_notebook(args.notebook), source=args.notebook)
    values = collect_values(args.param_flags, declared)
    if args.prepare_only:
        from mlops_nb.execution.prepared import prepare_notebook

        path = prepare_notebook(args.notebook, values, runs_dir=args.runs_dir, name=args.name)
        if args.json:
            shown = coerced(declared, values)  # as the notebook gets them: 1e+22 for a float
            output.print_json({"notebook": args.notebook, "prepared": str(path), "params": shown})
        else:
            output.out(f"parameterized notebook written to {path} (not executed)")
        return 0
    with tracking(args):
        result = run_notebook(
            args.notebook,
            values,
            name=args.name,
            runs_dir=args.runs_dir,
            timeout=args.timeout,
            reuse=args.reuse,
            cwd=args.cwd,
            kernel_name=args.kernel_name,
            output_dir=args.output_dir,
            metrics_file=args.metrics_file,
            upstream=parse_upstream(args.upstream),
            log_output=args.log_output,
            allow_errors=args.allow_errors,
        )
    if args.json:
        output.print_json(result.record)
    else:
        from mlops_nb.commands.show import summary_lines

        if result.reused:
            output.out(
                f"reused run {result.id}: same code, parameters and inputs; not executed again "
                "(drop --reuse to run anyway)"
            )

        for line in summary_lines(result):
            output.out(line)
    return 0 if result.ok else EXIT_FAILED
