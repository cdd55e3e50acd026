"""Create a project skeleton: notebooks/ from every template, a .gitignore ignoring runs/,
a .pre-commit-config.yaml with the mlops-nb hook (lint as saved, then strip) and a README stub.

Existing files are kept; --force overwrites the notebooks.
"""

from __future__ import annotations

import argparse
import shlex


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "directory", nargs="?", default=".", metavar="DIR", help="project folder (default: .)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing notebooks")


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output, scaffold

    result = scaffold.init_project(args.directory, force=args.force)
    for path in result.created:
        output.out(f"created {path}")
    for path in result.kept:
        output.out(f"kept    {path} (exists)")
    root = str(result.root)
    word = shlex.quote(f"./{root}" if root.startswith("-") else root)  # not an option of cd
    output.out(  # quoted: a folder named with a space or a quote pastes as one word
        f"next: cd {word} && git init && pre-commit install && mlops-nb run notebooks/eda.ipynb"
    )
    return 0
