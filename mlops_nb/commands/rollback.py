"""Point ALIAS of MODEL back at the version it had before its last move (undo; repeatable).

Blue/green: `mlops-nb rollback MODEL --alias live` switches live back to the previous color.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_runs_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="model name")
    parser.add_argument("--alias", required=True, metavar="ALIAS", help="the alias to roll back")
    parser.add_argument("--reason", metavar="TEXT", help="why (kept in the history)")
    add_runs_dir(parser)


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.registry import api
    from mlops_nb.store.runs import resolve_runs_dir

    change = api.rollback(
        resolve_runs_dir(args.runs_dir), args.model, args.alias, reason=args.reason
    )
    output.out(change.line())
    return 0
