"""One row per run: id, name, notebook, status, started, duration, sweep, then every parameter
(`params.NAME`) and every scalar scrap (`scraps.NAME`), then the error line of failed runs.

Read from the runs index (rebuilt automatically when missing or stale). In --where, --sort and
--columns name a column in full (`scraps.f1`), by its bare name when unambiguous (`f1`), or with
`_` for the dot (`scraps_f1`). Example:
  mlops-nb collect --where "f1 > 0.8 and model == 'rf'" --sort f1 --desc --limit 5
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import positive_int
from mlops_nb.commands._filters import add_filters, refuse_empty, run_filter

_COLUMN = "names no column; give one (e.g. scraps.f1 or f1), or leave the option out"


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
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of stdout ('-': stdout)"
    )


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.results.collect import collect
    from mlops_nb.results.formats import export, table_text
    from mlops_nb.results.plain import collect_text

    if args.sort is not None and not args.sort.strip():
        refuse_empty("--sort", args.sort, _COLUMN)
    for column in args.columns or []:
        if not column.strip(" ,"):
            refuse_empty("--columns", column, _COLUMN)
    filters = {
        "filter": run_filter(args),
        "sort": args.sort,
        "desc": args.desc,
        "limit": args.limit,
        "columns": args.columns,
    }
    if args.output == "-" and args.format != "parquet":
        args.output = None  # '-' is stdout; parquet's bytes go there as they are
    fast = collect_text(args.runs_dir, args.format, filters)  # None: pandas is needed
    if fast is not None:
        from mlops_nb.results.steps import check_step
        from mlops_nb.store import runs as store
        from mlops_nb.store.names import check_selection

        rd, chosen = store.resolve_runs_dir(args.runs_dir), filters["filter"]
        check_selection(rd, chosen, fast[1])
        check_step(rd, chosen.step, chosen.pipeline, fast[1])
        return _write(*fast, args.output)
    df = collect(args.runs_dir, **filters)
    if args.format == "table":
        table = table_text(df, width=output.terminal_width(200), keep_empty=bool(args.columns))
        text: str | None = table
        if args.output:
            from mlops_nb.notebook.io import write_user_file, writing

            with writing(args.output):
                write_user_file(args.output, table + "\n")
            text = None
    else:
        text = export(df, args.format, args.output)
    if text is not None:
        output.out(text.rstrip("\n"))
    elif args.output and args.output != "-":
        output.notice(f"{len(df)} runs written to {args.output}")
    return 0


def _write(text: str, n: int, path: str | None) -> int:
    from mlops_nb import output

    if path is None:
        output.out(text.rstrip("\n"))
        return 0
    from mlops_nb.notebook.io import write_user_file, writing

    with writing(path):
        write_user_file(path, text)
    output.notice(f"{n} runs written to {path}")
    return 0
