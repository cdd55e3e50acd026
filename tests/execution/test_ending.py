"""How a run ended (``execution.ending``), without a kernel: the status read from an execution,
and the output notebook written whatever the notebook holds or the disk allows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_nb import strict_json
from mlops_nb.errors import StoreError, UsageError
from mlops_nb.execution import ending, runner
from mlops_nb.execution.papermill_adapter import Execution
from mlops_nb.store import runs as store
from tests import nbbuild as b
from tests.execution.conftest import read_only


def injected() -> dict[str, Any]:
    return b.notebook(b.code("x = 1"))


def test_without_an_executed_notebook_the_injected_one_is_written(tmp_path: Path) -> None:
    nb = injected()
    written, problem = ending.write_output(tmp_path, None, nb)
    assert problem is None and written is nb
    assert json.loads((tmp_path / store.OUTPUT).read_text()) == nb


def test_a_non_finite_number_is_written_as_json(tmp_path: Path) -> None:
    nb = injected()
    nb["cells"][0]["metadata"]["loss"] = float("nan")
    _, problem = ending.write_output(tmp_path, None, nb)
    assert problem is None
    text = (tmp_path / store.OUTPUT).read_text()
    # RFC 8259 JSON (no bare NaN), and the value is read back by the product's own reader
    saved = json.loads(text, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    loss = strict_json.decode(saved)["cells"][0]["metadata"]["loss"]
    assert loss != loss  # NaN


def test_an_output_notebook_that_cannot_be_written_is_a_store_problem(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    with read_only(folder):
        nb, problem = ending.write_output(folder, None, injected())
    assert isinstance(problem, StoreError) and "write the output notebook" in problem.message
    assert nb["cells"] and not (folder / store.OUTPUT).exists()


@pytest.mark.parametrize(
    ("exception", "ename", "evalue"),
    [
        pytest.param(RuntimeError("  "), "RuntimeError", "RuntimeError", id="no-message"),
        pytest.param(ValueError("first\nsecond"), "ValueError", "first", id="first-line"),
    ],
)
def test_an_exception_of_the_execution_fails_the_run(
    exception: BaseException, ename: str, evalue: str
) -> None:
    execution = Execution()
    execution.current_cell = 2
    status, error = ending.status_of(None, injected(), execution, {"exception": exception})
    assert status == "failed" and error is not None
    assert (error["ename"], error["evalue"], error["traceback"]) == (ename, evalue, [])


def test_a_stop_reason_is_the_status() -> None:
    execution = Execution()
    execution.watch.stop("timeout")
    status, error = ending.status_of(1.5, injected(), execution, {})
    assert status == "timeout" and error is not None
    assert error["evalue"] == "the run exceeded its time limit of 1.5 s"
    assert ending.status_of(None, injected(), Execution(), {}) == ("ok", None)


def test_cwd_must_be_a_folder(tmp_path: Path) -> None:
    nb = b.write(tmp_path / "n.ipynb", b.params("x = 1"))
    with pytest.raises(UsageError, match=r"--cwd .*: no such folder"):
        runner.prepare(nb, cwd=tmp_path / "nope", runs_dir=tmp_path / "runs")


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf")])
def test_timeout_must_be_finite_and_positive(tmp_path: Path, timeout: float) -> None:
    nb = b.write(tmp_path / "n.ipynb", b.params("x = 1"))
    with pytest.raises(UsageError, match=r"--timeout must be a finite number of seconds > 0"):
        runner.prepare(nb, timeout=timeout, runs_dir=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()
