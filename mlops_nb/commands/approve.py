"""Apply a pending promotion of MODEL (human in the loop): its aliases move to the proposed version.

Pending promotions are kept per alias: --alias ALIAS (repeatable) takes those aliases only (the
rest of their requests stays pending), --all takes every pending alias; with neither, the one
pending request is taken (several: say which).
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_runs_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="model name")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--alias",
        action="append",
        metavar="ALIAS",
        help="the pending promotion of ALIAS (repeatable)",
    )
    which.add_argument(
        "--all", action="store_true", dest="every", help="every pending promotion of MODEL"
    )
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
    change = act(
        resolve_runs_dir(args.runs_dir),
        args.model,
        alias=args.alias,
        reason=args.reason,
        every=args.every,
    )
    output.out(change.line())
    return 0
