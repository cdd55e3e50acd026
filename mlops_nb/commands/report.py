"""Write a self-contained HTML report across runs: a leaderboard, seaborn plots of each numeric
scrap against the parameters (per sweep or notebook), run durations, failed runs with their
error line, and an anchored section per run. Images are embedded; the page loads nothing.

Needs the [ml] extra (seaborn, matplotlib). Filters are those of `mlops-nb collect`.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mlops_nb.commands.collect import add_filters

    add_filters(parser)
    parser.add_argument(
        "--sort", metavar="COL", help="leaderboard order (default: the first float scrap)"
    )
    parser.add_argument("--asc", action="store_true", help="smallest first (e.g. for a loss)")
    parser.add_argument("--title", default="mlops-nb report", help="the page title")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default="report.html",
        help="the HTML file to write (default: report.html)",
    )


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.errors import missing_extra

    try:
        import matplotlib  # noqa: F401
        import seaborn  # noqa: F401
    except ImportError as e:
        raise missing_extra(e.name or "seaborn", "ml", "mlops-nb report") from None
    from mlops_nb.report import build_report

    path = build_report(
        args.runs_dir,
        output=args.output,
        notebook=args.notebook,
        sweep=args.sweep,
        pipeline=args.pipeline,
        status=args.status,
        where=args.where,
        sort=args.sort,
        ascending=args.asc,
        title=args.title,
    )
    output.out(f"report written to {path}")
    return 0
