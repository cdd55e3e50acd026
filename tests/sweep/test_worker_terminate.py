"""A sweep worker's SIGTERM (``worker.terminate``, review7 L4) stops it as its sweep's stop file
does: no run starts after it, and a stop while the warm kernel was starting starts none either
(without the "starting one the usual way" line, which Ctrl-C printed too). No kernel starts
here: the worker stops before it would."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_nb.kernels.prewarm import KernelRecipe, Prewarmer
from mlops_nb.sweep import executors, worker
from mlops_nb.sweep.worker import NOT_RUN
from tests.sweep.test_worker import task_for


@pytest.fixture(autouse=True)
def _not_terminated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(worker, "_terminated", threading.Event())  # a test's SIGTERM is its own
    yield
    worker.release_all()


def test_after_a_sigterm_no_run_starts(tmp_path: Path, runs_dir: Path) -> None:
    before = signal.signal(signal.SIGTERM, executors._terminate)  # a pool worker's handler
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # handled here, in the main thread; it returns
    finally:
        signal.signal(signal.SIGTERM, before)
    assert worker.stop_requested(None)
    outcome = worker.run_task(task_for(tmp_path, runs_dir, prewarm=False))
    assert (outcome.status, outcome.run_ids) == (NOT_RUN, ())
    assert not runs_dir.exists()  # not even a record saying `running`


def test_a_stop_while_the_warm_kernel_starts_starts_no_kernel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = worker._State()
    state.prewarmer = Prewarmer(KernelRecipe())
    state.prewarmer.close()  # as the stop does, while take() waits for the warm kernel
    state.stopped = True
    assert worker._warm_factory(state, "python3") is None
    state.stopped = False  # the warm kernel failed for another reason: a cold one is started
    assert callable(worker._warm_factory(state, "python3"))
    assert "starting one the usual way" in caplog.text
