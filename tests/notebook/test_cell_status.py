"""Whether an executed notebook worked, read from the notebook itself (records read back from
disk) or with the kernel's live error replies: the rule a run's ``ok``/``failed`` rests on."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_nb.notebook.io import INJECTED_TAG
from mlops_nb.notebook.status import error_of, first_error, source_index
from tests import nbbuild as b


def _error(ename: str, evalue: str, traceback: list[str] | None = None) -> dict[str, Any]:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback or []}


def _stderr(text: str | list[str]) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stderr", "text": text}


def _marked(cell: dict[str, Any]) -> dict[str, Any]:
    cell["metadata"]["papermill"] = {"exception": True}
    return cell


def test_a_clean_notebook_has_no_error() -> None:
    nb = b.notebook(b.markdown("# title"), b.code("x = 1", count=1), b.code("print(x)", count=2))
    assert first_error(nb) is None


def test_the_first_error_output_names_its_cell_without_injected_cells() -> None:
    nb = b.notebook(
        b.params("a = 1"),
        b.code("a = 2", tags=[INJECTED_TAG]),
        b.code("ok = 1", count=1, id="fine"),
        b.code(
            "1/0",
            count=2,
            id="boom",
            outputs=[_error("ZeroDivisionError", "division by zero", ["\x1b[0;31mTrace\x1b[0m"])],
        ),
        b.code("raise ValueError('later')", outputs=[_error("ValueError", "later")]),
    )
    assert first_error(nb) == {
        "ename": "ZeroDivisionError",
        "evalue": "division by zero",
        "cell_index": 2,  # in the user's notebook: the injected cell does not count
        "cell_id": "boom",
        "execution_count": 2,
        "traceback": ["Trace"],  # colour codes removed
    }


def test_a_cell_tagged_raises_exception_may_fail() -> None:
    nb = b.notebook(
        b.code("1/0", tags=["raises-exception"], outputs=[_error("ZeroDivisionError", "x")]),
        b.code("y = 1"),
    )
    assert first_error(nb) is None


@pytest.mark.parametrize("evalue", ["", "0", "None"])
def test_sys_exit_0_is_a_clean_stop_and_the_cells_below_do_not_count(evalue: str) -> None:
    nb = b.notebook(
        b.code("import sys; sys.exit(0)", outputs=[_error("SystemExit", evalue)]),
        b.code("never ran", outputs=[_error("NameError", "stale output")]),
    )
    assert first_error(nb) is None


def test_sys_exit_with_a_failure_code_is_an_error() -> None:
    nb = b.notebook(b.code("import sys; sys.exit(3)", outputs=[_error("SystemExit", "3")]))
    error = first_error(nb)
    assert error is not None and (error["ename"], error["evalue"]) == ("SystemExit", "3")


def test_a_live_error_reply_without_an_error_output() -> None:
    nb = b.notebook(b.code("x = 1"), b.code("%bad_magic", outputs=[_stderr("noise\n")]))
    reply = {"status": "error", "ename": "UsageError", "evalue": "Line magic not found"}
    error = first_error(nb, {1: reply})
    assert error is not None
    assert (error["ename"], error["evalue"], error["cell_index"]) == (
        "UsageError",
        "Line magic not found",
        1,
    )
    # a reply with no name still fails the cell
    error = error_of(nb, 1, {"status": "error"})
    assert error is not None and (error["ename"], error["evalue"]) == ("Error", "")


def test_papermill_marker_reads_the_error_from_stderr() -> None:
    cell = _marked(
        b.code(
            "%no_such_magic",
            outputs=[
                _stderr(
                    ["\x1b[31mUsageError: ", "Line magic function `%no_such_magic` not found.\n"]
                )
            ],
        )
    )
    error = first_error(b.notebook(cell))
    assert error is not None
    assert error["ename"] == "UsageError"
    assert error["evalue"] == "Line magic function `%no_such_magic` not found."


def test_a_marker_without_any_error_text_is_a_kernel_error() -> None:
    cell = _marked(b.code("%%weird", outputs=[_stderr("just a warning\n"), "not a dict"]))  # type: ignore[list-item]
    error = first_error(b.notebook(cell))
    assert error is not None
    assert error["ename"] == "KernelError"
    assert "without an error output" in error["evalue"]


def test_a_markdown_cell_or_an_unmarked_cell_is_no_error() -> None:
    nb = b.notebook(b.markdown("text"), b.code("x = 1", outputs=[_stderr("Warning: x\n")]))
    assert error_of(nb, 0) is None
    assert error_of(nb, 1) is None  # stderr text alone, without a reply or marker, is no error


def test_source_index_skips_injected_cells() -> None:
    nb = b.notebook(b.params("a = 1"), b.code("a = 2", tags=[INJECTED_TAG]), b.code("b = 1"))
    assert source_index(nb, 2) == 1
    assert source_index(nb, 0) == 0
    assert source_index(nb, None) is None
