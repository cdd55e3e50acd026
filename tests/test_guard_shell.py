"""The live guard in this process, on a real IPython ``InteractiveShell`` (the shell ipykernel runs
cells in), with cell ids as Jupyter sends them (``run_cell(cell_id=...)``).

``test_guard.py`` drives the same guard in real kernels; these cases are the ones a kernel makes
slow to reach: how the notebook is found, long skips, unreadable files, the magic's errors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_nb import guard
from tests import nbbuild as b


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.delenv("MLOPS_NB_GUARD", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    config = Config()
    config.HistoryManager.hist_file = ":memory:"  # nothing written to ~/.ipython
    sh = InteractiveShell.instance(config=config)
    yield sh
    guard.unload_ipython_extension(sh)
    InteractiveShell.clear_instance()


def _notebook(path: Path, n: int = 4) -> Path:
    """``load`` on top, then code cells ``c1..cn`` (with a markdown cell after c1)."""
    cells = [b.code("%load_ext mlops_nb", id="load"), b.code("a = 1", id="c1")]
    cells.append(b.markdown("notes", id="md"))
    cells += [b.code(f"x{i} = {i}", id=f"c{i}") for i in range(2, n + 1)]
    return b.write(path, *cells)


def _run(sh: Any, code: str, cell_id: str | None, capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    result = sh.run_cell(code, cell_id=cell_id)
    result.stderr = capsys.readouterr().err
    return result


def test_read_order_lists_code_cells_with_code(tmp_path: Path) -> None:
    nb = b.write(
        tmp_path / "o.ipynb",
        b.code("x = 1", id="one"),
        b.markdown("text", id="two"),
        b.code("   \n", id="blank"),
        b.code("y = 2", id="three"),
    )
    order = guard.read_order(nb)
    assert order.ids == ("one", "two", "blank", "three")
    assert order.runnable == frozenset({"one", "three"})  # blank code and markdown: nothing to run
    assert order.position("three") == 3
    assert order.position("elsewhere") is None


def test_read_order_reads_sources_saved_as_lists(tmp_path: Path) -> None:
    path = tmp_path / "lines.ipynb"
    nb = b.notebook(b.code("", id="empty"), b.code("", id="full"))
    nb["cells"][0]["source"] = ["  ", "\n"]
    nb["cells"][1]["source"] = ["x = 1\n", "y = 2"]
    path.write_text(__import__("json").dumps(nb), encoding="utf-8")
    assert guard.read_order(path).runnable == frozenset({"full"})


@pytest.mark.parametrize(
    "text",
    ["", "not json", '{"cells": 3}', '{"nbformat": 4}'],
    ids=["empty", "not-json", "cells-not-a-list", "no-cells"],
)
def test_read_order_of_an_unreadable_file_is_empty(tmp_path: Path, text: str) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text(text, encoding="utf-8")
    assert guard.read_order(path) == guard.CellOrder((), frozenset())
    assert guard.read_order(tmp_path / "missing.ipynb").ids == ()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("%load_ext mlops_nb", True),
        ("# turn it off\n%mlops_nb_guard --off\n\n", True),
        ("%reload_ext mlops_nb\n%mlops_nb_guard --strict nb.ipynb", True),
        ("%mlops_nb_guard --status\nx = 1", False),
        ("%load_ext autoreload", False),
        ("   ", False),
        (None, False),
        (["%load_ext mlops_nb"], False),
    ],
    ids=["load", "comment-off", "reload-strict", "mixed", "other-ext", "blank", "none", "list"],
)
def test_is_guard_cell(source: object, expected: bool) -> None:
    assert guard.is_guard_cell(source) is expected


def test_notebook_path_from_what_the_front_end_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = _notebook(tmp_path / "sub" / "a.ipynb")
    monkeypatch.chdir(tmp_path)
    # VS Code's variable wins over Jupyter Server's session name
    other = _notebook(tmp_path / "other.ipynb")
    ns = {"__vsc_ipynb_file__": str(other), "__session__": str(nb)}
    assert guard.notebook_path_from(ns, {}) == other.resolve()
    assert guard.notebook_path_from({"__session__": "sub/a.ipynb"}, {}) == nb.resolve()
    # a session path relative to the server's root, kernel started in the notebook's folder
    monkeypatch.chdir(nb.parent)
    assert guard.notebook_path_from({}, {"JPY_SESSION_NAME": "elsewhere/a.ipynb"}) == nb.resolve()
    # names that are not notebooks, or do not exist, say nothing
    assert guard.notebook_path_from({"__session__": "console-1"}, {}) is None
    assert guard.notebook_path_from({"__session__": 3}, {"JPY_SESSION_NAME": "gone.ipynb"}) is None


def test_warns_when_cells_were_skipped_and_lists_five_at_most(
    tmp_path: Path, shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = _notebook(tmp_path / "long.ipynb", n=9)
    shell.user_ns["__session__"] = str(nb)
    assert _run(shell, "%load_ext mlops_nb", "load", capsys).stderr == ""
    assert _run(shell, "a = 1", "c1", capsys).stderr == ""
    jump = _run(shell, "x9 = 9", "c9", capsys)
    assert jump.success  # warn mode: the cell ran
    assert shell.user_ns["x9"] == 9
    # cells 4..10 hold c2..c8 (the markdown cell is 3): seven skipped, five named
    assert "code cell(s) 4, 5, 6, 7, 8, ... above it did not run" in jump.stderr
    back = _run(shell, "x2 = 2", "c2", capsys)
    assert "cell 4 runs above the last executed cell 11" in back.stderr


def test_strict_mode_rejects_the_cell_before_it_runs(
    tmp_path: Path, shell: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = _notebook(tmp_path / "s.ipynb")
    monkeypatch.setenv("MLOPS_NB_GUARD", " Strict ")
    shell.user_ns["__vsc_ipynb_file__"] = str(nb)
    _run(shell, "%load_ext mlops_nb", "load", capsys)
    assert _run(shell, "a = 1", "c1", capsys).success
    assert _run(shell, "x2 = 2", "c2", capsys).success
    rejected = _run(shell, "a = 100", "c1", capsys)
    assert not rejected.success
    assert isinstance(rejected.error_in_exec or rejected.error_before_exec, guard.OutOfOrderError)
    assert shell.user_ns["a"] == 1  # the cell's code never ran
    # the rejection is not recorded: the next cell in order runs
    assert _run(shell, "x3 = 3", "c3", capsys).success


def test_an_unknown_mode_in_the_environment_means_warn(
    tmp_path: Path, shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_NB_GUARD", "loud")
    guard.load_ipython_extension(shell)
    assert guard.watch().mode == "warn"


def test_the_magic_refuses_a_missing_notebook_and_keeps_the_old_one(
    tmp_path: Path, shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = _notebook(tmp_path / "m.ipynb")
    _run(shell, "%load_ext mlops_nb", "load", capsys)
    named = _run(shell, f"%mlops_nb_guard '{nb}'", "load", capsys)
    assert named.stderr == f"mlops-nb guard: mode warn, notebook {nb.resolve()}\n"
    missing = _run(shell, f"%mlops_nb_guard --strict {tmp_path / 'nope.ipynb'}", "load", capsys)
    assert missing.stderr == f"mlops-nb guard: {tmp_path / 'nope.ipynb'}: no such notebook file.\n"
    status = _run(shell, "%mlops_nb_guard --status", "load", capsys)
    # --strict came before the bad path in the same line and took effect; the notebook did not
    assert status.stderr == f"mlops-nb guard: mode strict, notebook {nb.resolve()}\n"


def test_the_guard_reads_the_order_again_when_the_file_changes(
    tmp_path: Path, shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = _notebook(tmp_path / "w.ipynb", n=2)
    _run(shell, "%load_ext mlops_nb", "load", capsys)
    g = guard.watch(nb, strict=False)
    assert _run(shell, "a = 1", "c1", capsys).stderr == ""
    assert _run(shell, "new = 1", "added", capsys).stderr == ""  # not saved yet: not judged
    b.write(
        nb,
        b.code("%load_ext mlops_nb", id="load"),
        b.code("a = 1", id="c1"),
        b.code("new = 1", id="added"),
        b.code("x2 = 2", id="c2"),
    )
    os.utime(nb, (1, 1))  # a new mtime even on a coarse clock
    assert g.position("added") == 2
    assert "code cell(s) 3 above it did not run" in _run(shell, "x2 = 2", "c2", capsys).stderr
    assert guard.watch(strict=True).mode == "strict"
    assert guard.watch() is g  # one guard per shell


def test_off_and_unload_stop_every_check(
    tmp_path: Path, shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = _notebook(tmp_path / "u.ipynb")
    shell.user_ns["__session__"] = str(nb)
    _run(shell, "%load_ext mlops_nb", "load", capsys)
    _run(shell, "%mlops_nb_guard --strict", "load", capsys)
    _run(shell, "x4 = 4", "c4", capsys)
    _run(shell, "%mlops_nb_guard --off", "load", capsys)
    assert _run(shell, "a = 1", "c1", capsys).success
    _run(shell, "%mlops_nb_guard --strict", "load", capsys)
    _run(shell, "%unload_ext mlops_nb", "load", capsys)
    assert not any(isinstance(t, guard._Reject) for t in shell.ast_transformers)
    again = _run(shell, "a = 2", "c1", capsys)
    assert again.success and again.stderr == ""
    guard.unload_ipython_extension(shell)  # unloading twice is harmless


def test_cells_without_ids_or_failing_to_parse_are_not_recorded(
    tmp_path: Path, shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = _notebook(tmp_path / "p.ipynb")
    shell.user_ns["__session__"] = str(nb)
    _run(shell, "%load_ext mlops_nb", "load", capsys)
    assert _run(shell, "a = (", "c4", capsys).error_before_exec is not None  # a syntax error
    assert _run(shell, "1 + 1", None, capsys).stderr == ""  # a console: no id, never judged
    # c4 never ran, so c1 is not "above the last executed cell"
    assert _run(shell, "a = 1", "c1", capsys).stderr == ""


def test_watch_outside_ipython_says_where_it_works() -> None:
    with pytest.raises(RuntimeError, match="inside an IPython kernel only"):
        guard.watch()


def test_an_unknown_notebook_is_said_once(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(shell, "%load_ext mlops_nb", "load", capsys).stderr == ""
    first = _run(shell, "a = 1", "c1", capsys)
    assert first.success
    assert first.stderr == guard.UNKNOWN_NOTEBOOK + "\n"
    assert _run(shell, "a = 2", "c1", capsys).stderr == ""


def test_a_deleted_notebook_is_judged_by_the_order_last_read(
    tmp_path: Path, shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = _notebook(tmp_path / "d.ipynb")
    shell.user_ns["__session__"] = str(nb)
    _run(shell, "%load_ext mlops_nb", "load", capsys)
    assert _run(shell, "x3 = 3", "c3", capsys).stderr.startswith("mlops-nb guard: cell 5 runs")
    nb.unlink()  # renamed or moved by the front end while the kernel runs
    assert "runs above the last executed cell 5" in _run(shell, "a = 1", "c1", capsys).stderr
