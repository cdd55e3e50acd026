"""Notebook code as Python, read the way IPython reads it.

A code cell may hold IPython syntax: line magics (``%time x``), cell magics (``%%bash``), shell
escapes (``!ls``, ``files = !ls``), help (``obj?``). IPython's own input transformer
(``IPython.core.inputtransformer2.TransformerManager``, what the kernel runs before compiling a
cell) turns them into Python calls (``get_ipython().run_line_magic(...)``) and leaves everything
else alone, string literals included: a ``%d`` or ``!`` line inside a triple-quoted string stays
text. Blanking lines that start with ``%`` or ``!`` got exactly that wrong.

Plain Python, most cells, is parsed without importing IPython (~0.25 s), which keeps lint and
the pre-commit hooks fast. IPython is not among the core dependencies (it pulls in jedi, ~60 MB,
three times the whole hook environment): where it is missing, a cell holding IPython syntax is
left as it is, so it does not parse and the rules that read code skip it rather than guess.
Adding ``ipython`` to the hook's ``additional_dependencies`` (or installing the ``[run]`` extra)
makes those cells read exactly.
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
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # the light core (pre-commit hook environments): see the module docstring
        return src
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


# Magics whose argument is Python code that IPython runs (``%time import x``, ``%%capture``).
PYTHON_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})


def python_trees(src: str) -> list[ast.Module]:
    """The cell's tree, plus the trees of the Python code inside magics that run it (``%%time``,
    ``%timeit``...): what module discovery must read to see every import IPython would run."""
    tree = parse_cell(src)
    if tree is None:
        return []
    out = [tree]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("run_line_magic", "run_cell_magic")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in PYTHON_MAGICS
        ):
            code = node.args[-1] if node.func.attr == "run_cell_magic" else node.args[1]
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                out += python_trees(code.value)
    return out


def is_transformed(src: str) -> bool:
    """Whether the cell uses IPython syntax (magics, shell escapes, help...)."""
    return python_source(src) != src
