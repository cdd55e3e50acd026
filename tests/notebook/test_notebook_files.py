"""Reading and writing notebook files: each unusable file is one clear ``NotebookError``, and a
failed write leaves the old file and no temp file behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.errors import NotebookError, UsageError
from mlops_nb.notebook import io
from tests import nbbuild as b


def test_a_folder_is_not_a_notebook(tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match=r"is a folder, not a notebook \(\.ipynb\) file\."):
        io.read_json(tmp_path)


def test_an_unreadable_path_says_why(tmp_path: Path) -> None:
    loop = tmp_path / "loop.ipynb"
    loop.symlink_to(loop)  # reading it fails with ELOOP
    with pytest.raises(NotebookError) as e:
        io.read_notebook(loop)
    assert (
        e.value.message == f"{loop}: cannot read the notebook: Too many levels of symbolic links."
    )


def _v4(**cell: Any) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}


@pytest.mark.parametrize(
    ("nb", "problem"),
    [
        ({"nbformat": 4, "metadata": {}}, "it has no 'cells' list"),
        (_v4(cell_type="heading", source=""), "cell 1 has no valid 'cell_type'"),
        (_v4(cell_type="markdown"), "cell 1 has no 'source'"),
        (_v4(cell_type="code", source="x"), "code cell 1 has no 'outputs' list"),
        ({"nbformat": 5, "cells": []}, "nbformat 5 is not supported"),
        ({"nbformat": 1}, "it has no 'cells' list"),
        ({"nbformat": 3, "worksheets": {}}, "it has no 'worksheets' list of cells"),
        (
            {"nbformat": 3, "worksheets": [{"cells": [{"input": "x"}]}]},
            "a cell has no valid 'cell_type'",
        ),
        (["not", "a", "notebook"], "the top level is not a JSON object"),
    ],
    ids=[
        "no-cells",
        "bad-cell-type",
        "no-source",
        "no-outputs",
        "too-new",
        "v1-no-cells",
        "v3-worksheets-not-a-list",
        "v3-cell-without-type",
        "not-an-object",
    ],
)
def test_structure_problems_name_the_cell(tmp_path: Path, nb: Any, problem: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(NotebookError) as e:
        io.read_json(path)
    assert e.value.message.startswith(f"{path}: not a valid notebook: {problem}")


def test_nbformat_4_0_as_a_float_is_read_as_4(tmp_path: Path) -> None:
    nb = b.notebook(b.code("x = 1"))
    nb["nbformat"] = 4.0
    path = tmp_path / "float.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    out = io.read_json(path)
    assert out["nbformat"] == 4 and type(out["nbformat"]) is int
    assert io.source_of(out["cells"][0]) == "x = 1"


def test_write_json_notebook_writes_as_nbformat_does(tmp_path: Path) -> None:
    nb = b.notebook(b.code("x = 'é'"))
    path = tmp_path / "out.ipynb"
    io.write_json_notebook(path, nb)
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert io.read_json(path) == nb


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()  # os.replace cannot put a file over a folder
    with pytest.raises(IsADirectoryError):
        io.atomic_write_text(target, "new text")
    assert target.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]


def test_writing_turns_an_os_error_into_one_usage_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    out = tmp_path / "a-file" / "page.html"  # its folder cannot be made: a file is in the way
    with pytest.raises(UsageError) as e, io.writing(out):
        io.atomic_write_text(out, "<html>")
    assert e.value.message == f"cannot write {out}: {tmp_path / 'a-file'} is a file, not a folder."
    with (
        pytest.raises(UsageError, match="is a folder: give the file to write"),
        io.writing(tmp_path),
    ):
        io.atomic_write_text(tmp_path, "<html>")
    (tmp_path / "ro").mkdir()
    with (
        pytest.raises(UsageError, match=r"No such file.*Check that its folder is writable"),
        io.writing(tmp_path / "ro" / "x.html"),
    ):
        raise FileNotFoundError(2, "No such file or directory")


def test_writing_makes_the_missing_folders(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "folders" / "page.html"
    with io.writing(out):
        io.atomic_write_text(out, "<html>")
    assert out.read_text() == "<html>"
