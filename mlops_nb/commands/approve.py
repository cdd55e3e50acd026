"""Apply a pending promotion of MODEL (human in the loop): its aliases move to the proposed version.

With several pending promotions (for different aliases), --alias says which.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_runs_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="model name")
    parser.add_argument("--alias", metavar="ALIAS", help="the pending promotion moving ALIAS")
    parser.add_argument("--reason", metavar="TEXT", help="why (kept in the history)")
    add_runs_dir(parser)


def run(args: argparse.Namespace) -> int:
    return decide(args, approve=True)


def decide(args: argparse.Namespace, *, approve: bool) -> int:
    """``approve`` and ``reject``: the same options, one call each."""
    from mlops_nb import output
    from mlops_nb.registry import api
    from mlops_nb.store.runs import resolve_runs_dir

    act = api.approve if approve else api.reject
    change = act(resolve_runs_dir(args.runs_dir), args.model, alias=args.alias, reason=args.reason)
    output.out(change.line())
    return 0
