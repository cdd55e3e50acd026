"""Bring the runs index (RUNS_DIR/index.sqlite) in line with the run folders, the source of
truth: only new or changed records are read, rows of removed folders dropped (--full: rebuild it
from every folder).

Never needed in normal use: a missing, stale or corrupt index is rebuilt automatically.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_runs_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_runs_dir(parser)
    parser.add_argument(
        "--full", action="store_true", help="read every run folder, not only new or changed ones"
    )


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.store import index
    from mlops_nb.store.reindex import refresh
    from mlops_nb.store.runs import resolve_runs_dir

    runs_dir = resolve_runs_dir(args.runs_dir)
    if args.full:
        n = index.rebuild(runs_dir)
        how = "rebuilt"
    else:
        done = refresh(runs_dir)
        n = done.total
        how = (
            "rebuilt"
            if done.full
            else f"{done.added} added, {done.updated} updated, {done.removed} removed"
        )
    output.out(f"indexed {n} run{'s' if n != 1 else ''} in {index.index_path(runs_dir)} ({how})")
    return 0
