"""Notebook code as Python, read the way IPython reads it.

A code cell may hold IPython syntax: line magics (``%time x``), cell magics (``%%bash``), shell
escapes (``!ls``, ``files = !ls``), help (``obj?``). IPython's own input transformer
(``IPython.core.inputtransformer2.TransformerManager``, what the kernel runs before compiling a
cell) turns them into Python calls (``get_ipython().run_line_magic(...)``) and leaves everything
else alone, string literals included: a ``%d`` or ``!`` line inside a triple-quoted string stays
text. Blanking lines that start with ``%`` or ``!`` got exactly that wrong.

Plain Python, most cells, is parsed without importing IPython (~0.25 s), which keeps lint and
the pre-commit hooks fast.
"""

from __future__ import annotations

import ast
import functools


@functools.lru_cache(maxsize=1024)
def python_source(src: str) -> str:
    """The cell's source as Python: itself when it is Python already, else IPython's transform.

    Raises nothing; code that is not valid either way comes back transformed, and parsing it
    raises ``SyntaxError`` as for any bad code.
    """
    try:
        ast.parse(src)
        return src
    except (SyntaxError, ValueError):
        pass
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return str(TransformerManager().transform_cell(src))  # type: ignore[no-untyped-call]
    except Exception:  # IPython's transformer gives up on some broken code: report it as is
        return src


def parse_cell(src: str) -> ast.Module | None:
    """The cell's syntax tree as IPython would compile it, or None when it is not valid code."""
    try:
        return ast.parse(python_source(src))
    except (SyntaxError, ValueError):
        return None


def is_transformed(src: str) -> bool:
    """Whether the cell uses IPython syntax (magics, shell escapes, help...)."""
    return python_source(src) != src
