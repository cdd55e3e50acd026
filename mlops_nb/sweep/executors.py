"""Where a sweep's runs execute, behind one tiny interface.

An executor accepts ``Task``s and returns ``concurrent.futures.Future``s of ``Outcome``s;
``capacity`` says how many runs it executes at once (the sweep never queues more, so stopping is
immediate). ``serial`` runs in this process, ``local`` in a pool of worker processes, ``dask`` on a
dask.distributed cluster (``mlops_nb.dask_adapter``). More can be plugged in through the
``mlops_nb.executors`` entry-point group: a callable ``(workers=, scheduler=) -> Executor``.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

from mlops_nb import plugins
from mlops_nb.errors import UsageError
from mlops_nb.kernels import lifeline
from mlops_nb.sweep.worker import Outcome, Task, release_all, run_task, terminate

ENTRY_POINT_GROUP = "mlops_nb.executors"
EXECUTORS: dict[str, str] = {
    "serial": "mlops_nb.sweep.executors:SerialExecutor",
    "local": "mlops_nb.sweep.executors:LocalExecutor",
    "dask": "mlops_nb.dask_adapter:DaskExecutor",
}


class Executor(Protocol):
    """Runs tasks; a worker's failure comes back as a failed ``Outcome``, never as a crash."""

    name: str
    capacity: int

    def submit(self, task: Task) -> cf.Future[Outcome]: ...

    def close(self, *, cancel: bool = False) -> None: ...


class SerialExecutor:
    """One run at a time in this process (``submit`` returns once the run is over)."""

    name = "serial"
    capacity = 1

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None) -> None:
        if scheduler:
            raise UsageError("--scheduler only applies to --executor dask.")

    def submit(self, task: Task) -> cf.Future[Outcome]:
        fut: cf.Future[Outcome] = cf.Future()
        fut.set_result(run_task(task))
        return fut

    def close(self, *, cancel: bool = False) -> None:
        release_all()


def _ignore_sigint(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C in a terminal reaches the whole process group; the parent decides what stops."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM to a worker (the process group killed, the pool terminating): its run in flight
    stops as on Ctrl-C, recorded ``interrupted`` (``worker.terminate``)."""
    terminate()


def _init_worker() -> None:
    # Python-level handlers (not SIG_IGN): kernels started from here get the defaults back.
    signal.signal(signal.SIGINT, _ignore_sigint)
    signal.signal(signal.SIGTERM, _terminate)
    # A driver killed outright (SIGKILL) must not leave its workers waiting forever.
    lifeline.watch_parent(release_all)
    # The sweep folds the index's WAL its workers leave (index.tidy): keep the connection.
    from mlops_nb.store import index

    index.keep_connections()


class LocalExecutor:
    """A pool of worker processes on this machine; each keeps its next kernel warming."""

    name = "local"

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None) -> None:
        if scheduler:
            raise UsageError("--scheduler only applies to --executor dask.")
        self.capacity = workers or os.cpu_count() or 1
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        self._pool = cf.ProcessPoolExecutor(
            max_workers=self.capacity,
            mp_context=multiprocessing.get_context(method),
            initializer=_init_worker,
        )

    def submit(self, task: Task) -> cf.Future[Outcome]:
        return self._pool.submit(run_task, task)

    def close(self, *, cancel: bool = False) -> None:
        # Workers leave normally; a multiprocessing finalizer there kills their warm kernels.
        self._pool.shutdown(wait=True, cancel_futures=cancel)


def warm_for_workers(nb: dict[str, Any]) -> None:
    """What every ``LocalExecutor`` worker would otherwise do once, done in the process that
    forks them (before its first ``submit``). ``nb``: the notebook the workers run."""
    import platform

    import mlops_nb.execution.papermill_adapter  # noqa: F401
    from mlops_nb.execution.provenance import installed_packages

    installed_packages()
    platform.platform()  # runs `uname -p` once, cached
    # nbformat compiles its JSON schema validator on the first notebook a process saves
    from nbformat import v4, validator

    compile_for: Callable[..., Any] = validator.get_validator  # untyped
    for minor in {v4.nbformat_minor, nb.get("nbformat_minor")}:
        if isinstance(minor, int) and 0 <= minor <= v4.nbformat_minor:
            compile_for(version=4, version_minor=minor)


def available() -> list[str]:
    return plugins.names(ENTRY_POINT_GROUP, EXECUTORS)


def check(name: str) -> None:
    """Raises ``UsageError`` if no executor is called ``name`` (listing the valid ones), without
    loading any: an unknown name is refused even when nothing will run."""
    valid = available()
    if name not in valid:
        raise UsageError(f"unknown executor {name!r}. Valid executors: {', '.join(valid)}.")


def make(name: str, *, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor called ``name``; an unknown name lists the valid ones."""
    factory = _lookup(name)
    executor: Executor = factory(workers=workers, scheduler=scheduler)
    return executor


def _lookup(name: str) -> Callable[..., Any]:
    return plugins.load(ENTRY_POINT_GROUP, EXECUTORS, name, "executor")
