"""A notebook's own top-level import statements (pure: a notebook in, ``ast`` nodes out).

Used by the sweep's ``--preload auto`` (``sweep.preload``, ``sweep.lazy_imports``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import Any

from mlops_nb.notebook.io import code_cells, source_of
from mlops_nb.notebook.params import find_parameters_cell
from mlops_nb.notebook.syntax import python_trees


def import_statements(nb: Mapping[str, Any]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The top-level import statements of the code cells but the parameters cell."""
    params_cell = find_parameters_cell(nb)
    for i, cell in code_cells(nb):
        if i == params_cell:
            continue
        # IPython syntax read as IPython does, with the code inside %%time and the like
        for tree in python_trees(source_of(cell)):
            yield from (n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))
