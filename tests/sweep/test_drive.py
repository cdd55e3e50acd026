"""The sweep driver's bookkeeping when executors misbehave: a pool that breaks, a worker that
dies, a store that fills up, runs that do not stop, Ctrl-C pressed three times. The executors here
are plugins of the ``executors`` registry (its Protocol), driving no kernels: what is tested is
what the driver records."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.sweep import api, drive, executors
from mlops_nb.sweep.progress import Finished, Silent
from mlops_nb.sweep.worker import NOT_RUN, Outcome, Task
from tests import nbbuild as b


class Scripted:
    """Outcomes by set index: an ``Outcome`` status, ``"raise"`` (the worker died), ``"hang"``
    (never finishes), ``"broken"`` (the pool breaks on submit)."""

    name = "scripted"
    script: ClassVar[dict[int, str]] = {}
    last_cancel: ClassVar[bool | None] = None

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None) -> None:
        self.capacity = workers or 2

    def submit(self, task: Task) -> cf.Future[Outcome]:
        what = self.script.get(task.index, "ok")
        if what == "broken":
            raise cf.BrokenExecutor("a worker died")
        fut: cf.Future[Outcome] = cf.Future()
        if what == "raise":
            fut.set_exception(RuntimeError("worker process exited"))
        elif what == "store":
            error = {"ename": "StoreError", "evalue": "no space left on device", "cell_index": 2}
            fut.set_result(Outcome(task.index, "failed", run_ids=(f"r{task.index}",), error=error))
        elif what != "hang":
            fut.set_result(Outcome(task.index, what, run_ids=(f"r{task.index}",), duration_s=0.5))
        return fut

    def close(self, *, cancel: bool = False) -> None:
        Scripted.last_cancel = cancel


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Scripted]]:
    monkeypatch.setitem(executors.EXECUTORS, "scripted", f"{__name__}:Scripted")
    Scripted.script, Scripted.last_cancel = {}, None
    yield Scripted


def run(tmp_path: Path, n: int, **options: Any) -> api.Sweep:
    nb = b.write(tmp_path / "nb.ipynb", b.params("i = 0"), b.code("j = i"))
    return api.sweep(
        nb, {"i": list(range(n))}, executor="scripted", runs_dir=tmp_path / "runs", **options
    )


def saved(result: api.Sweep) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.path.read_text())
    return data


def test_every_outcome_is_booked(tmp_path: Path, scripted: type[Scripted]) -> None:
    scripted.script = {1: "failed", 2: "raise", 3: NOT_RUN}
    result = run(tmp_path, 4, workers=1)
    assert [e["status"] for e in result.entries] == ["ok", "failed", "failed", "pending"]
    assert result.entries[2]["error"] == "RuntimeError: worker process exited"
    assert result.entries[0]["run_id"] == "r0" and result.entries[0]["duration_s"] == 0.5
    assert result.status == "failed" and result.record["workers"] == 1
    assert saved(result) == result.record


def test_a_broken_pool_stops_and_leaves_the_rest_pending(
    tmp_path: Path, scripted: type[Scripted], caplog: pytest.LogCaptureFixture
) -> None:
    scripted.script = {2: "broken"}
    result = run(tmp_path, 4, workers=1)
    assert [e["status"] for e in result.entries] == ["ok", "ok", "pending", "pending"]
    assert result.status == "interrupted"  # re-invoking resumes what is left
    assert "the worker pool broke" in caplog.text
    assert not list((tmp_path / "runs" / "sweeps").glob("*.stop"))


def test_a_full_store_stops_the_sweep_with_one_error(
    tmp_path: Path, scripted: type[Scripted], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drive, "STOP_WAIT_S", 0.0)  # the hung run is given up at once
    scripted.script = {0: "hang", 1: "store"}
    with pytest.raises(StoreError) as e:
        run(tmp_path, 4, workers=2)
    assert e.value.message == (
        "no space left on device 4 set(s) not done; re-invoke the sweep to resume."
    )
    (path,) = (tmp_path / "runs" / "sweeps").glob("*.json")
    data = json.loads(path.read_text())
    assert data["status"] == "failed"
    assert [e["status"] for e in data["runs"]] == ["pending", "failed", "pending", "pending"]
    assert Scripted.last_cancel is True


class CtrlC(Silent):
    """Presses Ctrl-C (a real SIGINT to this process) ``times`` times when the first run ends."""

    def __init__(self, times: int) -> None:
        self.times = times

    def finished(self, run: Finished) -> None:
        for _ in range(self.times):
            self.times -= 1
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("times", [1, 3], ids=["once", "three-times"])
def test_ctrl_c_records_the_sweep_as_interrupted(
    tmp_path: Path, scripted: type[Scripted], times: int
) -> None:
    result = run(tmp_path, 3, workers=1, progress=CtrlC(times), handle_signals=True)
    assert result.status == "interrupted"
    assert [e["status"] for e in result.entries] == ["ok", "pending", "pending"]
    assert saved(result)["status"] == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored
