"""A run's computing environment: export it to rebuild it elsewhere, or compare two runs'.

export RUN --format requirements|dockerfile|repo2docker [-o DIR] [--hashes]
    requirements: the exact package set pinned (--hashes: with hashes, resolved for the run's
    exact Python version: uv if installed, else pip); dockerfile: Dockerfile + hashed lock;
    repo2docker: requirements.txt, runtime.txt, postBuild. Without -o (or with -o -), the
    requirements print; -o naming a pipe or device (/dev/null, /dev/stdout) gets them in place.
diff RUN_A RUN_B [--json]
    packages added, removed and changed, Python and platform. Exit 0 either way.
"""

from __future__ import annotations

import argparse

from mlops_nb.commands._common import add_runs_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    e = sub.add_parser("export", help="a lock file or container recipe of a run's environment")
    e.add_argument("run_ref", metavar="RUN", help="run id, unique prefix, name or 'latest'")
    e.add_argument(
        "--format", choices=("requirements", "dockerfile", "repo2docker"), default="requirements"
    )
    e.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        help="folder to write the files into (made if missing; '-': print requirements.txt, "
        "as without -o; a named pipe or device such as /dev/stdout: requirements.txt in place)",
    )
    e.add_argument(
        "--hashes", action="store_true", help="pin with hashes (always for dockerfile/repo2docker)"
    )
    d = sub.add_parser("diff", help="what differs between two runs' environments")
    d.add_argument("run_a", metavar="RUN_A")
    d.add_argument("run_b", metavar="RUN_B")
    d.add_argument("--json", action="store_true", help="print the differences as JSON")
    for p in (e, d):
        add_runs_dir(p)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlops_nb import environment, output
    from mlops_nb.execution.api import Run

    if args.action == "diff":
        from mlops_nb.environment.compare import diff

        a = environment.load(Run.find(args.run_a, runs_dir=args.runs_dir).path)
        b = environment.load(Run.find(args.run_b, runs_dir=args.runs_dir).path)
        result = diff(a, b)
        if args.json:
            output.print_json(result.as_dict())
        else:
            for line in result.lines():
                output.out(line)
        return 0
    from mlops_nb.environment.export import export

    run_ = Run.find(args.run_ref, runs_dir=args.runs_dir)
    files = export(run_.path, fmt=args.format, out_dir=args.output, hashes=args.hashes)
    if args.output is None:
        output.out(files["requirements.txt"].rstrip("\n"))
    elif Path(args.output).is_dir():
        for name in files:
            output.notice(f"wrote {Path(args.output, name)}")
    elif args.output != "-":  # a pipe or device, written in place
        output.notice(f"wrote requirements.txt to {args.output}")
    return 0
