"""Show one run's record: status, parameters, scalar scraps, error, provenance.

RUN is a run id, a unique prefix of one, a run name (refused, with the runs' ids, when several
runs have it) or `latest`.
With --html, the run's output notebook as one offline HTML page (nbconvert; the [html] extra);
--no-input hides the code (papermill's "report mode").
"""

from __future__ import annotations

import argparse
from typing import Any

from mlops_nb.commands._common import add_runs_dir

# (flags, add_argument keywords), in --help's order.
_FLAGS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--json",), {"action": "store_true", "help": "print the raw run record"}),
    (
        ("--lineage",),
        {"action": "store_true", "help": "the chain of upstream runs back to the raw data files"},
    ),
    (
        ("--html",),
        {
            "action": "store_true",
            "help": "write the run's output notebook as an offline HTML page "
            "(needs the [html] extra)",
        },
    ),
    (
        ("--no-input",),
        {"action": "store_true", "help": "with --html: hide code cells (report mode)"},
    ),
    (
        ("-o", "--output"),
        {
            "metavar": "FILE",
            "help": "with --html: the page to write (default: RUN_ID.html here; '-' for stdout)",
        },
    ),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_ref", metavar="RUN", help="run id, id prefix, name, or 'latest'")
    add_runs_dir(parser)
    for flags, options in _FLAGS:
        parser.add_argument(*flags, **options)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _output_line(run: Any) -> str:
    """Where the output notebook is: a run that did not finish (``lost``) may have only the
    partial notebook it was writing, or none."""
    from mlops_nb.store.runs import PARTIAL_OUTPUT

    if run.output_notebook.is_file():
        return f"  output:    {run.output_notebook}"
    partial = run.path / PARTIAL_OUTPUT
    if partial.is_file():
        return f"  output:    {partial} (partial: the run did not finish writing it)"
    return "  output:    none (the run wrote no output notebook)"


def summary_lines(run: Any) -> list[str]:
    """A readable summary of a run (shared by `run` and `show`)."""
    r = run.record
    took = r.get("duration_s")
    lines = [f"run {r['id']}  {r['status']}" + (f"  ({_fmt(took)} s)" if took is not None else "")]
    if r.get("name"):
        lines.append(f"  name:      {r['name']}")
    if r.get("rerun_of"):
        lines.append(f"  rerun of:  {r['rerun_of']}")
    lines.append(f"  notebook:  {r['notebook']['path']}")
    lines.append(_output_line(run))
    if r.get("params"):
        lines.append(
            "  params:    "
            + ", ".join(f"{k}={v!r}" for k, v in r["params"].items() if k != "output_dir")
        )
    if r.get("scraps"):
        lines.append("  scraps:    " + ", ".join(f"{k}={_fmt(v)}" for k, v in r["scraps"].items()))
    if r.get("error"):
        lines.append(f"  error:     {run.error_line()}")
    return lines


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.execution.api import Run

    result = Run.find(args.run_ref, runs_dir=args.runs_dir)
    if (args.no_input or args.output) and not args.html:
        from mlops_nb.errors import UsageError

        raise UsageError("--no-input and -o go with --html (e.g. show RUN --html --no-input).")
    if args.html:
        return _html(result, args.output, no_input=args.no_input)
    if args.json:
        output.print_json(result.record)
        return 0
    for line in summary_lines(result):
        output.out(line)
    r = result.record
    git = r.get("git")
    if git:
        dirty = " (dirty)" if git.get("dirty") else ""
        output.out(f"  git:       {git.get('commit')} on {git.get('branch')}{dirty}")
    env = r.get("environment") or {}
    if env:
        output.out(f"  python:    {env.get('python')} on {env.get('platform')}")
    res = r.get("resources") or {}
    if res.get("peak_rss_bytes"):
        output.out(
            f"  kernel:    peak {res['peak_rss_bytes'] / 2**20:.0f} MiB, "
            f"{res.get('cpu_seconds')} s CPU"
        )
    for label in ("inputs", "artifacts"):
        for path, d in (r.get(label) or {}).items():
            output.out(
                f"  {label[:-1]}:{' ' * (10 - len(label))}{path}  sha256:{d['sha256'][:12]}"
                f"  {d['size']} B{_dvc(d)}"
            )
    if args.lineage:
        from mlops_nb.results.lineage import lineage_lines

        for line in lineage_lines(result):
            output.out(line)
    return 0


def _dvc(digest: dict[str, Any]) -> str:
    from mlops_nb.dvc_adapter import describe

    return f"  {describe(digest['dvc'])}" if digest.get("dvc") else ""


def _html(result: Any, target: str | None, *, no_input: bool) -> int:
    from mlops_nb import output
    from mlops_nb.nbconvert_adapter import notebook_html, write_run_html

    if target == "-":
        from mlops_nb.notebook.io import read_json

        output.out(notebook_html(read_json(result.output_notebook), no_input=no_input))
        return 0
    path = write_run_html(result.path, target or f"{result.id}.html", no_input=no_input)
    output.out(f"run {result.id} written to {path}")
    return 0
