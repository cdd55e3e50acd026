"""Show a notebook's parameters: name, type, default and help (from the `parameters` cell)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "notebook", metavar="NOTEBOOK", help="the notebook (.ipynb, or Jupytext .py/.md)"
    )
    parser.add_argument("--json", action="store_true", help="print the parameters as JSON")


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.notebook.io import read_notebook
    from mlops_nb.notebook.params import parse_notebook_params

    params = parse_notebook_params(read_notebook(args.notebook), source=args.notebook)
    if args.json:
        output.print_json(
            {
                "notebook": args.notebook,
                "parameters_cell": params.cell_index,
                "parameters": [s.to_dict() for s in params.specs],
            }
        )
        return 0
    if params.cell_index is None:
        output.out(f"{args.notebook}: no parameters cell (tag a code cell 'parameters').")
        return 0
    if not params.specs:
        output.out(f"{args.notebook}: the parameters cell (cell {params.cell_index + 1}) is empty.")
        return 0
    rows = [
        [
            s.name,
            str(s.type),
            # Python's spelling (True, None, 'text'), as -p takes it
            repr(s.default) if s.literal_default else s.default_source,
            s.help,
        ]
        for s in params.specs
    ]
    output.out(f"{args.notebook}: parameters (cell {params.cell_index + 1})")
    output.out(output.table(rows, ["name", "type", "default", "help"]))
    return 0
