"""Rebuild the runs index (RUNS_DIR/index.sqlite) from the run folders, the source of truth.

Never needed in normal use: a missing, stale or corrupt index is rebuilt automatically.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_runs_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_runs_dir(parser)


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.store import index
    from mlops_nb.store.runs import resolve_runs_dir

    runs_dir = resolve_runs_dir(args.runs_dir)
    n = index.rebuild(runs_dir)
    output.out(f"indexed {n} run{'s' if n != 1 else ''} in {index.index_path(runs_dir)}")
    return 0
