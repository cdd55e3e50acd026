"""The pre-commit step: lint each notebook as saved, then strip the ones that pass.

A notebook with findings (e.g. run out of order) is left as it is and fails the commit with the
lint message; a clean one is stripped in place (the commit then fails once, as with any
pre-commit hook that changes files: `git add` it and commit again). A recorded run's files (a
committed runs store) are skipped with a note. Exit 0 nothing to do,
1 findings or files changed, 2 unreadable input.

Also the console scripts `mlops-nb-lint`, `mlops-nb-strip` and `mlops-nb-hook` used by
.pre-commit-hooks.yaml.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mlops_nb.commands.lint import add_rule_arguments

    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="notebooks, or folders searched for *.ipynb"
    )
    add_rule_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.commands.lint import print_report
    from mlops_nb.lint.hook import verify_then_strip

    report = verify_then_strip(args.paths, select=args.select, ignore=args.ignore)
    print_report(report.lint, fmt="text", prog="mlops-nb hook")
    if report.lint.findings:
        output.err("mlops-nb hook: notebooks with findings were not stripped; fix them first.")
    for path, what in report.stripped:
        output.out(f"{path}: stripped {what}")
    return report.exit_code


def _entry(
    prog: str,
    add: Callable[[argparse.ArgumentParser], None],
    run_: Callable[[argparse.Namespace], int],
    doc: str | None,
    argv: Sequence[str] | None,
) -> int:
    from mlops_nb.error_handler import handle
    from mlops_nb.output import ArgumentParser

    parser = ArgumentParser(
        prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add(parser)
    args = parser.parse_args(argv)
    return handle(prog, lambda: run_(args))


def lint_main(argv: Sequence[str] | None = None) -> int:
    """``mlops-nb-lint``: same as ``mlops-nb lint``."""
    from mlops_nb.commands import lint

    return _entry("mlops-nb-lint", lint.add_arguments, lint.run, lint.__doc__, argv)


def strip_main(argv: Sequence[str] | None = None) -> int:
    """``mlops-nb-strip``: same as ``mlops-nb strip``."""
    from mlops_nb.commands import strip

    return _entry("mlops-nb-strip", strip.add_arguments, strip.run, strip.__doc__, argv)


def hook_main(argv: Sequence[str] | None = None) -> int:
    """``mlops-nb-hook``: same as ``mlops-nb hook``."""
    return _entry("mlops-nb-hook", add_arguments, run, __doc__, argv)
