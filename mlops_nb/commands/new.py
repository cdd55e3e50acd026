"""Create a notebook from a template (eda, train, evaluate, monitor, ...).

`mlops-nb new train notebooks/` writes notebooks/train.ipynb; `mlops-nb new --list` lists the
templates. Templates run on bundled data as they are; most need `pip install 'mlops-nb[ml]'`.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("template", nargs="?", metavar="TEMPLATE", help="template name, e.g. train")
    parser.add_argument(
        "path", nargs="?", metavar="PATH", help="new notebook file, or a folder to put it in"
    )
    parser.add_argument("--list", action="store_true", help="list the templates and exit")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output, scaffold
    from mlops_nb.errors import UsageError

    if args.list:
        templates = scaffold.list_templates()
        rows = [[name, title] for name, title in templates.items()]
        output.out(output.table(rows, ["template", "description"]))
        return 0
    if not args.template or not args.path:
        raise UsageError(
            "give a template and a path, e.g. `mlops-nb new train notebooks/train.ipynb`, "
            "or list the templates with `mlops-nb new --list`."
        )
    path = scaffold.new_notebook(args.template, args.path, force=args.force)
    output.out(str(path))
    return 0
