"""``--track TARGET`` for the commands that run notebooks (argparse only: imported by ``--help``)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator


def add_track(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--track",
        action="append",
        metavar="TARGET",
        help="also export each run as it finishes to mlflow, tensorboard or wandb "
        "(repeatable; settings from [tool.mlops-nb.track]; a tracking failure only warns)",
    )


@contextlib.contextmanager
def tracking(args: argparse.Namespace) -> Iterator[None]:
    """Runs started inside are tracked in ``args.track`` (checked before anything runs)."""
    from mlops_nb.tracking.track import requested

    with requested(getattr(args, "track", None)):
        yield
