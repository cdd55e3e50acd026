"""Check notebook hygiene: linear execution (counts 1..n top to bottom, or none), one literal
parameters cell on top, no error outputs, little code, small outputs, a kernelspec.

A recorded run's files (in a run folder or the runs store) are its results: a folder among them
is refused, a file named there is skipped with a note. Prints `path:cell N: CODE message`. Exit 0 clean, 1 findings, 2 unreadable input (other files are
still checked). Settings: [tool.mlops-nb.lint] in pyproject.toml (select, ignore, max-cell-lines,
max-output-bytes), found by walking up from each notebook.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops_nb.lint import LintReport

RULES_EPILOG = """rules:
  NB101  cells executed out of order (counts not 1..n top to bottom in one session)
  NB102  some code cells executed, others not
  NB103  error output
  NB201  no parameters cell
  NB202  more than one parameters cell
  NB203  parameters cell is not the first code cell
  NB204  parameters cell holds statements that are not literal assignments
  NB301  code cell longer than max-cell-lines (default 30)
  NB302  function or class defined in the notebook
  NB401  output larger than max-output-bytes (default 100k)
  NB501  no kernelspec in the notebook metadata
"""


def add_rule_arguments(parser: argparse.ArgumentParser) -> None:
    """--select / --ignore, shared with `mlops-nb hook`."""
    parser.add_argument(
        "--select",
        action="append",
        metavar="CODES",
        help="only these rules (codes or prefixes, comma-separated: NB1,NB201); replaces the "
        "configured selection",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        metavar="CODES",
        help="skip these rules (codes or prefixes), on top of the configured ones",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = RULES_EPILOG
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="notebooks, or folders searched for *.ipynb (hidden folders such as "
        ".ipynb_checkpoints are skipped)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: a list of {path, cell, code, message, cell_id}",
    )
    add_rule_arguments(parser)


def print_report(report: LintReport, *, fmt: str, prog: str = "mlops-nb lint") -> None:
    """Findings on stdout; unreadable files (and, for text, a summary) on stderr."""
    from mlops_nb import output

    for note in report.skipped:
        output.err(note)
    if fmt == "json":
        output.print_json([f.to_dict() for f in [*report.unreadable, *report.findings]])
        return
    for finding in report.findings:
        output.out(finding.format())
    for bad in report.unreadable:
        output.err(bad.format())
    if report.findings:
        notebooks = len({f.path for f in report.findings})
        output.err(
            f"{prog}: {len(report.findings)} finding(s) in {notebooks} of "
            f"{report.checked} notebook(s)."
        )


def run(args: argparse.Namespace) -> int:
    from mlops_nb.lint import lint_paths

    report = lint_paths(args.paths, select=args.select, ignore=args.ignore)
    print_report(report, fmt=args.format)
    return report.exit_code
