"""One row per run: id, name, notebook, status, started, duration, sweep, then every parameter
(`params.NAME`) and every scalar scrap (`scraps.NAME`), then the error line of failed runs.

Read from the runs index (rebuilt automatically when missing or stale). In --where, --sort and
--columns name a column in full (`scraps.f1`), by its bare name when unambiguous (`f1`), or with
`_` for the dot (`scraps_f1`). Example:
  mlops-nb collect --where "f1 > 0.8 and model == 'rf'" --sort f1 --desc --limit 5
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_runs_dir, positive_int


def add_filters(parser: argparse.ArgumentParser) -> None:
    """The run filters shared by `collect` and `report`."""
    add_runs_dir(parser)
    g = parser.add_argument_group("filters")
    g.add_argument("--notebook", metavar="N", help="runs of this notebook (path or file name)")
    g.add_argument("--sweep", metavar="S", help="runs of this sweep (id or id prefix)")
    g.add_argument("--pipeline", metavar="P", help="runs of this pipeline (its name)")
    g.add_argument(
        "--status",
        metavar="S",
        help="ok, failed, timeout, interrupted, lost, running (comma-separated)",
    )
    g.add_argument("--where", metavar="EXPR", help='a pandas query, e.g. "f1 > 0.8 and C < 1"')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_filters(parser)
    parser.add_argument("--sort", metavar="COL", help="sort by this column")
    parser.add_argument("--desc", action="store_true", help="sort descending")
    parser.add_argument("--limit", type=positive_int, metavar="N", help="at most N rows")
    parser.add_argument(
        "--columns", metavar="COL", nargs="+", help="these columns only, in this order"
    )
    parser.add_argument(
        "--format",
        choices=("table", "csv", "json", "parquet"),
        default="table",
        help="output format (default: table)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.results.collect import collect, export, table_text
    from mlops_nb.results.plain import collect_text

    filters = {
        "notebook": args.notebook,
        "sweep": args.sweep,
        "pipeline": args.pipeline,
        "status": args.status,
        "where": args.where,
        "sort": args.sort,
        "desc": args.desc,
        "limit": args.limit,
        "columns": args.columns,
    }
    fast = collect_text(args.runs_dir, args.format, filters)  # None: pandas is needed
    if fast is not None:
        return _write(*fast, args.output)
    df = collect(args.runs_dir, **filters)
    if args.format == "table":
        table = table_text(df, width=output.terminal_width(200), keep_empty=bool(args.columns))
        text: str | None = table
        if args.output:
            from mlops_nb.notebook.io import atomic_write_text, writing

            with writing(args.output):
                atomic_write_text(args.output, table + "\n")
            text = None
    else:
        text = export(df, args.format, args.output)
    if text is not None:
        output.out(text.rstrip("\n"))
    elif args.output:
        output.notice(f"{len(df)} runs written to {args.output}")
    return 0


def _write(text: str, n: int, path: str | None) -> int:
    from mlops_nb import output

    if path is None:
        output.out(text.rstrip("\n"))
        return 0
    from mlops_nb.notebook.io import atomic_write_text, writing

    with writing(path):
        atomic_write_text(path, text)
    output.notice(f"{n} runs written to {path}")
    return 0
