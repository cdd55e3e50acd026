"""Send runs (with their sweep/pipeline hierarchy) to a tracking system: MLflow, TensorBoard or
Weights & Biases. Idempotent: what was sent is remembered in RUNS_DIR/exports.sqlite and never
sent twice; an export cut off mid-way is completed by running it again.

Choose runs like `collect` does (RUN..., --sweep, --pipeline, --notebook, --status, --where) or
--all. Examples:
  mlops-nb export mlflow --all                         # into sqlite:///mlflow.db beside runs/
  mlops-nb export mlflow --pipeline example --tracking-uri http://127.0.0.1:5000
  mlops-nb export tensorboard --sweep train- --logdir tb/
  mlops-nb export wandb --all --project my-project     # offline; `wandb sync` uploads later
Exit code: 0 exported, 1 partly exported (run it again), 2 bad usage or unreachable destination.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._filters import add_filters, run_filter

# The options of the target groups below (mlflow, tensorboard, wandb), passed to the exporter.
TARGET_OPTIONS = ("tracking_uri", "experiment", "artifacts", "logdir", "project", "mode")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target", metavar="TARGET", help="mlflow, tensorboard, wandb (or an installed plugin)"
    )
    parser.add_argument("runs", metavar="RUN", nargs="*", help="run ids, id prefixes or names")
    add_filters(parser)
    parser.add_argument("--all", action="store_true", dest="all_runs", help="every run")
    parser.add_argument(
        "--dry-run", action="store_true", help="only say what would be created or updated"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="one line per run even for many runs"
    )
    g = parser.add_argument_group("mlflow")
    g.add_argument(
        "--tracking-uri",
        metavar="URI",
        help="default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db beside the runs folder",
    )
    g.add_argument(
        "--experiment",
        metavar="NAME",
        help="one experiment for all (default: per pipeline/notebook)",
    )
    g.add_argument(
        "--artifacts",
        choices=("all", "notebook", "none"),
        help="what to upload (default: all: notebook, artifacts, run.json, environment.json)",
    )
    g = parser.add_argument_group("tensorboard")
    g.add_argument("--logdir", metavar="DIR", help="default: tensorboard/ beside the runs folder")
    g = parser.add_argument_group("wandb")
    g.add_argument("--project", metavar="NAME", help="default: per pipeline/notebook")
    g.add_argument(
        "--mode",
        choices=("offline", "online"),
        help="offline (default; no network, `wandb sync` uploads later) or online",
    )


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.tracking.api import export, summary

    options = {name: getattr(args, name) for name in TARGET_OPTIONS}  # the target's, as given
    chosen = run_filter(args)
    result = export(
        args.target,
        args.runs,
        runs_dir=args.runs_dir,
        filter=chosen,
        **options,
        all_runs=args.all_runs,
        dry_run=args.dry_run,
    )
    for line in summary(result, each=args.verbose):
        output.out(line)
    return 0
