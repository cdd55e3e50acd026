"""Text notebooks (Jupytext's percent and light ``.py``, ``.md``) read like ``.ipynb`` files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlops_nb import jupytext_adapter as ja
from mlops_nb.errors import MissingExtraError, NotebookError
from mlops_nb.notebook.io import read_notebook


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.py", True), ("A.MD", True), ("a.ipynb", False), ("a.pyc", False), ("py", False)],
)
def test_is_text_notebook(name: str, expected: bool) -> None:
    assert ja.is_text_notebook(name) is expected


def test_a_kernel_named_in_the_header_is_kept() -> None:
    text = (
        "# ---\n# jupyter:\n#   kernelspec:\n#     name: ir\n#     display_name: R\n"
        "#     language: R\n# ---\n\n# %%\nx <- 1\n"
    )
    nb = ja.parse_text_notebook(text, source="analysis.py")
    assert nb["metadata"]["kernelspec"]["name"] == "ir"
    assert nb["nbformat"] == 4


@pytest.mark.parametrize(
    "header",
    ["", "# ---\n# jupyter:\n#   jupytext:\n#     formats: py:percent\n# ---\n"],
    ids=["no-header", "header-without-kernelspec"],
)
def test_a_notebook_without_a_kernel_gets_python3(header: str) -> None:
    nb = ja.parse_text_notebook(header + "# %%\nx = 1\n", source="n.py")
    assert nb["metadata"]["kernelspec"] == ja.PYTHON3
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert code == ["x = 1"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bad.md", "---\njupyter: [unclosed\n---\n"),
        ("bad.py", "# ---\n# jupyter:\n#   kernelspec: [\n# ---\n"),
        ("bad.md", "---\njupyter:\n  kernelspec: 3\n---\n"),
        ("bad.py", "# ---\n# jupyter:\n#   kernelspec:\n#     display_name: R\n# ---\n"),
    ],
    ids=["md-yaml", "py-yaml", "kernelspec-not-a-mapping", "kernelspec-without-name"],
)
def test_a_header_jupytext_cannot_read_is_one_notebook_error(
    tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NotebookError) as e:
        read_notebook(path)
    assert e.value.message.startswith(f"{path}: not a Jupytext notebook (")
    assert "Use the percent format ('# %%' cell markers)" in e.value.message


def test_without_jupytext_the_fix_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jupytext", None)
    with pytest.raises(MissingExtraError, match="jupytext"):
        ja.parse_text_notebook("# %%\nx = 1\n", source="n.py")
