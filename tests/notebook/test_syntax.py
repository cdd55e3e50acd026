"""IPython syntax in cells (magics, shell escapes) read as IPython reads it, and code that is
not valid either way reported as such, never as a crash."""

from __future__ import annotations

import ast
import sys

import pytest

from mlops_nb.notebook import syntax


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("x = 1\n", "x = 1\n"),
        ("%time y = 2", "get_ipython().run_line_magic('time', 'y = 2')\n"),
        ("files = !ls", "files = get_ipython().getoutput('ls')\n"),
    ],
    ids=["python", "line-magic", "shell-escape"],
)
def test_python_source(src: str, expected: str) -> None:
    assert syntax.python_source(src) == expected
    assert syntax.is_transformed(src) is (src != expected)


@pytest.mark.parametrize(
    "src",
    ["x = (", "\t11\n 1'", ")=%''''a.b"],
    ids=["unclosed", "ipython-indentation-error", "ipython-index-error"],
)
def test_code_that_is_not_valid_either_way_has_no_tree(src: str) -> None:
    # the last two make IPython's own transformer raise: the cell is reported as it is
    assert syntax.parse_cell(src) is None
    assert syntax.python_trees(src) == []
    with pytest.raises(SyntaxError):
        ast.parse(syntax.python_source(src))


def test_null_bytes_are_invalid_code_not_a_crash() -> None:
    assert syntax.parse_cell("x = 1\x00") is None


def _imports(trees: list[ast.Module]) -> set[str]:
    return {
        alias.name
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }


@pytest.mark.parametrize(
    ("src", "found"),
    [
        ("%%time\nimport json\nimport csv", {"json", "csv"}),
        ("%timeit import json", {"json"}),
        ("%%capture out\nimport json", {"json"}),
        ("%time %time import json", {"json"}),  # a magic inside a magic
        ("%%bash\nimport json", set()),  # not Python: bash never imports json
        ("%env X=import json", set()),
    ],
    ids=["cell-time", "line-timeit", "capture", "nested", "bash", "env"],
)
def test_python_trees_see_code_run_by_magics(src: str, found: set[str]) -> None:
    assert _imports(syntax.python_trees(src)) == found


def test_without_ipython_cells_are_read_as_plain_python(monkeypatch: pytest.MonkeyPatch) -> None:
    # the light core (a pre-commit hook environment) has no IPython: magics stay as written
    monkeypatch.setitem(sys.modules, "IPython.core.inputtransformer2", None)
    assert syntax.python_source("%time x = 1") == "%time x = 1"
    assert syntax.parse_cell("%time x = 1") is None
    assert syntax.parse_cell("x = 1") is not None
