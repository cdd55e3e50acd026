"""Write a self-contained HTML report across runs: a headline per pipeline invocation (the DAG,
each step's status and key numbers, the best model, metrics against their baselines, the drift
alarm), then one section per pipeline step, sweep or notebook with its own leaderboard, seaborn
plots of each numeric scrap against each varying parameter (None is a category; constant
metrics are summarised in a line; parallel coordinates for 3+ parameters), the images its best
runs saved, its failed runs with their errors, and each run's details; then run durations.
Images are embedded; the page has no script and loads nothing.

Needs the [ml] extra (seaborn, matplotlib). Filters are those of `mlops-nb collect`.
"""

from __future__ import annotations

import argparse
import importlib.util

from mlops_nb.commands._filters import add_filters, refuse_empty, run_filter

_COLUMN = "names an empty column; give one (e.g. scraps.f1 or f1), or leave the option out"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_filters(parser)
    parser.add_argument(
        "--sort", metavar="COL", help="leaderboard order (default: the first float scrap)"
    )
    parser.add_argument("--asc", action="store_true", help="smallest first (e.g. for a loss)")
    parser.add_argument("--title", default="mlops-nb report", help="the page title")
    parser.add_argument(
        "--metrics",
        metavar="NAME",
        nargs="+",
        default=(),
        help="plot these scraps first (default: every numeric scrap, in column order)",
    )
    parser.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="draw every section anew; by default a section whose runs have not changed is "
        "taken from the last report (kept in ~/.cache/mlops-nb/report)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default="report.html",
        help="the HTML file to write (default: report.html; '-' for stdout)",
    )


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.errors import missing_extra

    for module in ("matplotlib", "seaborn"):  # found, not imported: a page may draw no figure
        if importlib.util.find_spec(module) is None:
            raise missing_extra(module, "ml", "mlops-nb report")
    from mlops_nb.report import build_report
    from mlops_nb.report.cache import Cache
    from mlops_nb.report.painter import painting
    from mlops_nb.store.place import resolve_runs_dir

    if args.sort is not None and not args.sort.strip():
        refuse_empty("--sort", args.sort, _COLUMN)
    for metric in args.metrics:
        if not all(part.strip() for part in metric.split(",")):
            refuse_empty("--metrics", metric, _COLUMN)
    runs_dir = resolve_runs_dir(args.runs_dir)
    with painting(runs_dir, Cache(runs_dir, enabled=args.cache)):  # figures on another core
        path = build_report(
            runs_dir,
            output=args.output,
            filter=run_filter(args),
            sort=args.sort,
            ascending=args.asc,
            title=args.title,
            metrics=args.metrics,
            cache=args.cache,
        )
    if args.output != "-":
        output.out(f"report written to {path}")
    return 0
