"""Discard a pending promotion of MODEL: no alias moves; the rejection is kept in the history.

Pending promotions are kept per alias: --alias ALIAS (repeatable) or --all, as for `approve`.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands.approve import add_arguments, decide

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    return decide(args, approve=False)
