"""The run filters of `collect`, `report` and `export` (argparse only: imported by ``--help``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mlops_nb.commands._common import add_runs_dir

if TYPE_CHECKING:
    from mlops_nb.results.filter import RunFilter


# RunFilter's fields, in its order: flag, metavar, help.
_FLAGS = (
    ("--notebook", "N", "runs of this notebook (path or file name)"),
    ("--sweep", "S", "runs of this sweep (its id, or a prefix of one sweep's id)"),
    ("--pipeline", "P", "runs of this pipeline (its name)"),
    ("--status", "S", "ok, failed, timeout, interrupted, lost, running (comma-separated)"),
    ("--where", "EXPR", 'a filter expression, e.g. "f1 > 0.8 and C < 1"'),
    ("--step", "STEP", "runs of this pipeline step (its name in pipeline.yaml)"),
)


def add_filters(parser: argparse.ArgumentParser) -> None:
    """``--runs-dir`` and the filter flags (``RunFilter``'s fields), in a "filters" group."""
    add_runs_dir(parser)
    g = parser.add_argument_group("filters")
    for flag, metavar, text in _FLAGS:
        g.add_argument(flag, metavar=metavar, help=text)


def run_filter(args: argparse.Namespace) -> RunFilter:
    """The ``RunFilter`` of the flags ``add_filters`` added (``UsageError``: an unknown status,
    or a flag given an empty value: ``--sweep ''``, ``--status ok,``)."""
    from mlops_nb.results.filter import RunFilter, empty

    values = {flag[2:]: getattr(args, flag[2:]) for flag, _, _ in _FLAGS}
    for name, value in values.items():
        refuse_empty(f"--{name}", value, empty(name, value))
    return RunFilter(**values)


def refuse_empty(flag: str, value: str | None, problem: str | None) -> None:
    """Raise ``UsageError`` ``--FLAG 'VALUE' PROBLEM.`` when there is a problem."""
    if problem:
        from mlops_nb.errors import UsageError

        raise UsageError(f"{flag} {value!r} {problem}.")
