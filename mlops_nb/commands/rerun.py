"""Execute the code recorded in a run (its output notebook, not the current file) with the same
parameters, into a new run linked to the original (`rerun_of` in its record), named NAME-rerun-N
when the original is named NAME (N: the next free number), so NAME keeps meaning the original.

--check compares the scalar scraps: exact for strings, booleans and integers, within --rtol for
floats; an original that recorded no scalar scrap (lost, or failed before its first glue) has
nothing to compare with: exit 2 before anything runs. Exit code: 0 ok (and reproducible with
--check), 1 the rerun failed or scraps differ, 2 bad usage.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_runs_dir, positive_float


def _rtol(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_ref", metavar="RUN", help="run id, id prefix, name, or 'latest'")
    add_runs_dir(parser)
    parser.add_argument(
        "--check", action="store_true", help="compare scalar scraps; exit 1 if any differ"
    )
    parser.add_argument(
        "--rtol",
        type=_rtol,
        default=1e-9,
        metavar="X",
        help="relative tolerance for float scraps (default: 1e-9)",
    )
    parser.add_argument(
        "--timeout", type=positive_float, metavar="S", help="time limit of the rerun"
    )


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.errors import EXIT_FAILED, RunInterrupted
    from mlops_nb.results.diff import RunDiff, diff_lines
    from mlops_nb.results.rerun import rerun
    from mlops_nb.store.lookup import resolve_run
    from mlops_nb.store.runs import resolve_runs_dir

    folder = resolve_run(resolve_runs_dir(args.runs_dir), args.run_ref)
    result = rerun(folder, rtol=args.rtol, timeout=args.timeout, check=args.check)
    if result.status == "interrupted":
        raise RunInterrupted(f"interrupted: rerun {result.new.name} is recorded as 'interrupted'")
    output.out(f"rerun of {folder.name}: run {result.new.name}  {result.status}")
    if result.status != "ok":
        return EXIT_FAILED
    if not args.check:
        return 0
    if result.reproducible:
        output.out(f"reproducible: all scalar scraps match (floats within rtol {args.rtol:g})")
        return 0
    output.out(f"NOT reproducible: {len(result.differences)} scrap(s) differ")
    lines = diff_lines(RunDiff(folder.name, result.new.name, scraps=result.differences))
    for line in lines[3:]:
        output.out(line)
    return EXIT_FAILED
