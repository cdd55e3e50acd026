"""Strip outputs, execution counts and volatile metadata from notebooks (via nbstripout), in one
process. Cell sources, order, ids and tags (the `parameters` tag above all) are kept byte for
byte; cells tagged `keep_output` keep their outputs. Files needing no change are not rewritten.

Settings: [tool.mlops-nb.strip] in pyproject.toml (keep-output, keep-count, extra-keys,
keep-metadata-keys, drop-empty-cells, drop-tagged-cells, strip-init-cells, drop-output-types,
keep-output-types, max-size). Exit 0 nothing to do, 1 files changed (or would, with --check),
2 unreadable input.
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
    for path, message in report.unreadable:
        output.err(f"{path}: NB000 {message}")


def run(args: argparse.Namespace) -> int:
    from mlops_nb.strip import strip_paths

    report = strip_paths(args.paths, check=args.check)
    print_report(report, check=args.check)
    return report.exit_code
