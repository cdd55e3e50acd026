"""Run one notebook with parameters, in a fresh kernel, and record the run.

The output notebook and the run record land in RUNS_DIR/<run id>/. Parameters are validated against
the notebook's `parameters` cell before any kernel starts. Exit code: 0 ok, 1 the notebook failed
or timed out, 2 bad usage or parameters, 130 interrupted.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_param_flags, add_runs_dir, positive_float
from mlops_nb.commands._track import add_track, tracking


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", metavar="NOTEBOOK", help="the .ipynb file to run")
    add_param_flags(parser)
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
    parser.add_argument("--json", action="store_true", help="print the run record as JSON")
    add_track(parser)


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.errors import EXIT_FAILED
    from mlops_nb.execution.api import run as run_notebook
    from mlops_nb.notebook.io import read_json
    from mlops_nb.notebook.params import parse_notebook_params
    from mlops_nb.notebook.values import collect_values

    declared = parse_notebook_params(read_json(args.notebook), source=args.notebook)
    values = collect_values(args.param_flags, declared)
    with tracking(args):
        result = run_notebook(
            args.notebook,
            values,
            name=args.name,
            runs_dir=args.runs_dir,
            timeout=args.timeout,
            reuse=args.reuse,
            cwd=args.cwd,
        )
    if args.json:
        output.print_json(result.record)
    else:
        from mlops_nb.commands.show import summary_lines

        for line in summary_lines(result):
            output.out(line)
    return 0 if result.ok else EXIT_FAILED
