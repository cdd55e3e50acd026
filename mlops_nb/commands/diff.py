"""What differs between two runs: parameters, scalar scraps (with deltas), notebook code (cell by
cell, unified diff), git commit, package versions and input-data hashes.

RUN_A and RUN_B are run ids, unique id prefixes, unique run names or `latest`.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_runs_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="RUN_A", help="run id, id prefix, name, or 'latest'")
    parser.add_argument("run_b", metavar="RUN_B", help="run id, id prefix, name, or 'latest'")
    add_runs_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the differences as JSON")


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.results.diff import diff_lines, diff_runs
    from mlops_nb.store.lookup import resolve_runs
    from mlops_nb.store.runs import resolve_runs_dir

    a, b = resolve_runs(resolve_runs_dir(args.runs_dir), [args.run_a, args.run_b])
    d = diff_runs(a, b)
    if args.json:
        output.print_json(d.as_dict())
    else:
        for line in diff_lines(d):
            output.out(line)
    return 0
