"""The commit step in process: lint as saved, strip only what passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.commands.hook import hook_main
from mlops_nb.main import main
from tests import nbbuild as b

OUT = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]


def _cells(path: Path) -> list[dict[str, object]]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]  # type: ignore[no-any-return]


def test_out_of_order_notebook_is_rejected_and_left_as_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(
        tmp_path / "x.ipynb", b.params("a = 1", count=2, outputs=OUT), b.code("b = 2", count=1)
    )
    before = nb.read_bytes()
    assert hook_main([str(nb)]) == 1
    assert nb.read_bytes() == before  # the evidence is kept for the user to fix
    out, err = capsys.readouterr()
    assert f"{nb}:cell 1: NB101 ran out of order" in out
    assert "Restart & Run All" in out
    assert "not stripped" in err


def test_linear_notebook_is_stripped_with_ids_and_tags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(
        tmp_path / "x.ipynb",
        b.params("a = 1", count=1, id="p1", outputs=OUT),
        b.code("print(a)", count=2, id="c2", outputs=OUT),
    )
    assert main(["hook", str(nb)]) == 1  # files changed: pre-commit makes the user re-add
    cells = _cells(nb)
    assert [c["id"] for c in cells] == ["p1", "c2"]
    assert cells[0]["metadata"] == {"tags": ["parameters"]}
    assert [c["outputs"] for c in cells] == [[], []]
    assert f"{nb}: stripped 2 outputs, 2 execution counts" in capsys.readouterr().out
    assert hook_main([str(nb)]) == 0  # second pass: the stripped file is clean
    assert hook_main([str(nb)]) == 0


def test_clean_notebook_is_untouched(tmp_path: Path) -> None:
    nb = b.write(tmp_path / "x.ipynb", b.params("a = 1"), b.code("print(a)"))
    before = nb.read_bytes()
    assert hook_main([str(nb)]) == 0
    assert nb.read_bytes() == before


def test_select_and_ignore_reach_the_hook(tmp_path: Path) -> None:
    nb = b.write(tmp_path / "x.ipynb", b.code("def f():\n    pass\n", count=1))
    assert hook_main([str(nb)]) == 1
    assert _cells(nb)[0]["execution_count"] == 1  # NB201/NB302 findings: not stripped
    assert hook_main(["--ignore", "NB201,NB302", str(nb)]) == 1
    assert _cells(nb)[0]["execution_count"] is None


def test_unreadable_file_exits_2_and_others_are_processed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.ipynb").write_text("nope", encoding="utf-8")
    good = b.write(tmp_path / "good.ipynb", b.params("a = 1", count=1))
    assert hook_main([str(tmp_path / "bad.ipynb"), str(good)]) == 2
    assert _cells(good)[0]["execution_count"] is None
    assert "bad.ipynb: NB000 not a valid notebook" in capsys.readouterr().err


def test_console_script_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.mlops-nb.strip]\nbogus = 1\n", "utf-8")
    nb = b.write(tmp_path / "x.ipynb", b.params("a = 1", count=1))
    assert hook_main([str(nb)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlops-nb-hook: error: ") and "unknown setting(s) bogus" in err
    assert "Traceback" not in err
