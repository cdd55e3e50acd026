"""Point aliases of a model at a run's model artifact (registering it as a new version if new).

RUN is a run (id, id prefix, name, `latest`), `@ALIAS` (another alias's version, e.g. switch
`live` to `@green`: blue/green) or `vN`. With --require-approval the promotion waits for
`mlops-nb approve MODEL` (or `reject`). Every change is kept in the model's history.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_runs_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="model name, e.g. rare_events")
    parser.add_argument("run_ref", metavar="RUN", help="run id/prefix/name, @ALIAS or vN")
    parser.add_argument(
        "--alias",
        action="append",
        required=True,
        metavar="ALIAS",
        help="alias to move (repeatable): champion, challenger, blue, green, live, ...",
    )
    parser.add_argument("--reason", metavar="TEXT", help="why (kept in the history)")
    parser.add_argument(
        "--require-approval",
        action="store_true",
        help="record a pending promotion that `mlops-nb approve` applies",
    )
    parser.add_argument(
        "--artifact",
        default="model.joblib",
        metavar="FILE",
        help="the model file in the run folder (default: model.joblib)",
    )
    add_runs_dir(parser)


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.registry import api
    from mlops_nb.store.hints import command
    from mlops_nb.store.runs import resolve_runs_dir

    runs_dir = resolve_runs_dir(args.runs_dir)
    change = api.promote(
        runs_dir,
        args.model,
        args.run_ref,
        args.alias,
        reason=args.reason,
        require_approval=args.require_approval,
        artifact=args.artifact,
    )
    output.out(change.line())
    if args.require_approval and change.entry["action"] != api.UNCHANGED:
        # other requests pending: `approve MODEL` alone would ask which, so name these aliases
        others = len(api.pending(runs_dir, [args.model])) > 1
        which = [w for a in change.entry["aliases"] for w in ("--alias", a)] if others else []
        approve, reject = (
            command(a, args.model, *which, runs_dir=args.runs_dir) for a in ("approve", "reject")
        )
        output.out(f"  approve with `{approve}`, or `{reject}`")
    return 0
