"""One sweep task in this process (what a pool or dask worker runs): outcomes, retries, stops, and
the contract that a task never raises."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_nb.errors import KernelStartFailed
from mlops_nb.execution import runner
from mlops_nb.store import runs as store
from mlops_nb.sweep import worker
from mlops_nb.sweep.worker import NOT_RUN, Task, kernel_failure, kernel_name_of, run_task
from tests import nbbuild as b
from tests.execution.conftest import read_only

DIE_ONCE = b.notebook(
    b.params("marker = ''"),
    b.code(
        "import os\nif not os.path.exists(marker):\n"
        "    open(marker, 'w').close()\n    os._exit(1)\nprint('second time lucky')"
    ),
)


@pytest.fixture(autouse=True)
def _release() -> Iterator[None]:
    yield
    worker.release_all()  # no warm kernel outlives the test


def task_for(folder: Path, runs: Path, **options: object) -> Task:
    nb = b.write(folder / "die_once.ipynb", *DIE_ONCE["cells"])
    spec = runner.prepare(nb, {"marker": str(folder / "m")}, runs_dir=runs)
    # Each test its own stop file, as each sweep has: a stop is not carried over.
    options.setdefault("stop_file", str(folder / "sweep.stop"))
    return Task(index=3, spec=spec, key=runner.key_of(spec), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        pytest.param(None, False, id="no-error"),
        pytest.param({"ename": "DeadKernelError", "cell_index": 1}, True, id="dead-kernel"),
        pytest.param({"ename": KernelStartFailed.__name__}, True, id="start-failed"),
        pytest.param(
            {"ename": "RuntimeError", "evalue": "Kernel didn't respond", "cell_index": None},
            True,
            id="kernel-timeout",
        ),
        pytest.param(
            {"ename": "RuntimeError", "evalue": "kernel in a cell", "cell_index": 2},
            False,
            id="cell-error-naming-a-kernel",
        ),
        pytest.param({"ename": "ValueError", "evalue": "kernel", "cell_index": None}, False),
    ],
)
def test_kernel_failure(error: dict[str, object] | None, retry: bool) -> None:
    assert kernel_failure(error) is retry


def test_kernel_name_of(tmp_path: Path) -> None:
    nb = b.write(tmp_path / "n.ipynb", b.params("x = 1"))
    spec = runner.prepare(nb, runs_dir=tmp_path / "runs")
    assert kernel_name_of(spec) == "python3"
    assert kernel_name_of(dataclasses.replace(spec, kernel_name="other")) == "other"
    bare = dataclasses.replace(spec, kernel_name=None, nb={"metadata": {}})
    assert kernel_name_of(bare) == "python3"


def test_a_stop_before_the_task_starts_runs_nothing(tmp_path: Path) -> None:
    stop = tmp_path / "sweep.stop"
    stop.touch()
    task = task_for(tmp_path, tmp_path / "runs", stop_file=str(stop), prewarm=False)
    outcome = run_task(task)
    assert (outcome.index, outcome.status, outcome.run_ids) == (3, NOT_RUN, ())
    assert not (tmp_path / "runs").exists() or not list(store.iter_records(tmp_path / "runs"))


def test_a_full_or_read_only_store_is_a_failed_outcome(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    task = task_for(tmp_path, runs, prewarm=False)
    with read_only(runs):
        outcome = run_task(task)
    assert outcome.status == "failed" and outcome.run_ids == ()
    assert outcome.error is not None and outcome.error["ename"] == "StoreError"
    assert str(runs) in outcome.error["evalue"]


def test_a_bug_is_a_failed_outcome_not_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    task = task_for(tmp_path, tmp_path / "runs", prewarm=False)
    broken = dataclasses.replace(task, spec=dataclasses.replace(task.spec, nb=None))  # type: ignore[arg-type]
    outcome = run_task(broken)
    assert outcome.status == "failed"
    assert outcome.error is not None and outcome.error["ename"] == "TypeError"
    assert "sweep task 3 failed" in caplog.text


@pytest.mark.kernel
@pytest.mark.parametrize("prewarm", [False, True], ids=["cold", "prewarmed"])
def test_a_dead_kernel_is_retried(tmp_path: Path, prewarm: bool) -> None:
    runs = tmp_path / "runs"
    outcome = run_task(task_for(tmp_path, runs, retries=1, prewarm=prewarm, fork=False))
    assert outcome.status == "ok" and len(outcome.run_ids) == 2
    first, second = (store.read_record(runs / r) for r in outcome.run_ids)
    assert first["status"] == "failed" and first["error"]["ename"] == "DeadKernelError"
    assert second["status"] == "ok" and outcome.folder == str(runs / outcome.run_ids[1])
    assert outcome.run_id == outcome.run_ids[1] and outcome.duration_s == second["duration_s"]


@pytest.mark.kernel
def test_a_stop_kills_the_warm_kernel_and_stops_further_attempts(tmp_path: Path) -> None:
    task = task_for(tmp_path, tmp_path / "runs", prewarm=True, fork=False)
    state = worker._state()
    state.configure(task)
    assert state.prewarmer is not None
    state.stop()
    state.stop()  # twice: nothing more to do
    assert state.stopped and state.prewarmer.closed
    assert run_task(task).status == NOT_RUN  # a stopped worker starts nothing
