"""Strip outputs, execution counts and volatile metadata from notebooks (via nbstripout), in one
process. Cell sources, order, ids and tags (the `parameters` tag above all) are kept byte for
byte; cells tagged `keep_output` keep their outputs. Files needing no change are not rewritten;
symbolic links are written through. nbformat 1-3 notebooks are stripped in their own version.

A notebook run out of order, with skipped cells or with error outputs (lint's NB101, NB102, NB103)
is left as saved and listed: stripping would erase what shows it. Restart & Run All and save, or
clear all outputs. Settings that would strip what run and lint need (the parameters cell, tags,
ids, the kernelspec) are refused.

A recorded run's files (in a run folder or the runs store) are its results: a folder among them
is refused, a file named there is skipped with a note.

Settings: [tool.mlops-nb.strip] in pyproject.toml (keep-output, keep-count, extra-keys,
keep-metadata-keys, drop-empty-cells, drop-tagged-cells, strip-init-cells, drop-output-types,
keep-output-types, max-size). Exit 0 nothing to do, 1 files changed (or would, with --check) or
notebooks left as saved, 2 unreadable input or refused settings.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops_nb.strip import StripReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="notebooks, or folders searched for *.ipynb"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; list the files that would change and exit 1 if any",
    )


def print_report(report: StripReport, *, check: bool) -> None:
    from mlops_nb import output

    verb = "would strip" if check else "stripped"
    for path, what in report.changed:
        output.out(f"{path}: {verb} {what}")
    for finding in report.kept:
        output.out(finding.format())
    for path, message in report.unreadable:
        output.err(f"{path}: NB000 {message}")
    for note in report.skipped:
        output.err(note)
    if report.kept:
        notebooks = len({f.path for f in report.kept})
        output.err(
            f"mlops-nb strip: {notebooks} notebook(s) not stripped: stripping would erase the "
            "evidence of the findings above. Restart & Run All and save (or clear all outputs), "
            "then strip."
        )


def run(args: argparse.Namespace) -> int:
    from mlops_nb.strip import strip_paths

    report = strip_paths(args.paths, check=args.check)
    print_report(report, check=args.check)
    return report.exit_code
