"""What runs inside a sweep worker (a pool process, a dask worker, or this process when serial).

``run_task`` executes one parameter set: it takes a pre-warmed kernel, runs the notebook through
``runner.execute_run`` (which records everything), and retries when the *kernel* died or failed to
start. It never raises: whatever happens becomes an ``Outcome``.

Stopping crosses process and machine boundaries through a file next to the sweep record (the
runs folder is shared by every worker): when it exists, the run in flight is recorded
``interrupted``, warm kernels are killed, and queued tasks return without running.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb import process_hooks
from mlops_nb.errors import KernelStartFailed
from mlops_nb.execution.runner import RunSpec

log = logging.getLogger(__name__)
POLL_S = 0.1
NOT_RUN = "not-run"  # the task was cancelled before it started (interrupt or --fail-fast)


@dataclass(frozen=True)
class Task:
    """One parameter set to run, with everything a remote worker needs."""

    index: int
    spec: RunSpec
    key: tuple[str, dict[str, Any]]
    retries: int = 0
    preload: tuple[str, ...] = ()
    prewarm: bool = True
    fork: bool = True
    stop_file: str | None = None
    warm_ahead: bool = True  # False for the sweep's last task: no kernel warms for nobody


@dataclass(frozen=True)
class Outcome:
    """How a task ended: the final run's status and every run id it took."""

    index: int
    status: str
    run_ids: tuple[str, ...] = ()
    folder: str | None = None
    error: dict[str, Any] | None = None
    duration_s: float | None = None
    scraps: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str | None:
        return self.run_ids[-1] if self.run_ids else None


_terminated = threading.Event()  # SIGTERM in this worker: a stop file for all its tasks


def terminate() -> None:
    """SIGTERM to a pool worker (``executors._terminate``): as the stop file does, the run in
    flight stops its kernel and is recorded ``interrupted``, and no further run starts here; the
    pool's shutdown ends the process. Safe in a signal handler: it only sets a flag, which the
    stop watcher thread and the next attempt act on (unwinding the worker from the handler left
    what it interrupted half done: a record ``running``, a kernel's files, a traceback)."""
    _terminated.set()


def stop_requested(stop_file: str | None) -> bool:
    if _terminated.is_set():
        return True
    return stop_file is not None and os.path.exists(stop_file)


def kernel_failure(error: dict[str, Any] | None) -> bool:
    """The kernel died or never became ready: worth a retry, unlike an exception in a cell."""
    if not error:
        return False
    ename = str(error.get("ename"))
    if ename in ("DeadKernelError", KernelStartFailed.__name__):
        return True
    text = str(error.get("evalue", "")).lower()
    return (
        error.get("cell_index") is None
        and ename in ("RuntimeError", "TimeoutError")
        and ("kernel" in text)
    )


class _State:
    """Per worker thread: its pre-warmer, the run in flight, and the stop-file watcher."""

    def __init__(self) -> None:
        self.prewarmer: Any = None
        self.recipe: Any = None
        self.watch: Any = None
        self.stop_file: str | None = None
        self.stopped = False
        self._watcher: threading.Thread | None = None

    def configure(self, task: Task) -> None:
        from mlops_nb.execution.runner import work_dir
        from mlops_nb.kernels.prewarm import KernelRecipe, Prewarmer

        recipe = KernelRecipe(
            kernel_name=kernel_name_of(task.spec),
            cwd=work_dir(task.spec),
            preload=task.preload,
            fork=task.fork,
        )
        if task.stop_file != self.stop_file:
            self.stop_file, self.stopped = task.stop_file, False
            self._ensure_watcher()
        if not task.prewarm:
            self.release()
        elif recipe != self.recipe or self.prewarmer is None or self.prewarmer.closed:
            self.release()
            self.recipe, self.prewarmer = recipe, Prewarmer(recipe)

    def _ensure_watcher(self) -> None:
        if self.stop_file is None or (self._watcher and self._watcher.is_alive()):
            return
        self._watcher = threading.Thread(target=self._watch, name="mlops-nb-stop", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while self.stop_file is not None:
            if stop_requested(self.stop_file):
                self.stop()
            time.sleep(POLL_S)

    def stop(self) -> None:
        """Record the run in flight as interrupted (its kernel is stopped) and kill warm kernels."""
        if not self.stopped:
            self.stopped = True
            watch = self.watch
            if watch is not None:
                watch.stop("interrupted", grace=1.0)
            if self.prewarmer is not None:
                # the run in flight may be on a forked kernel: its server stays until release()
                self.prewarmer.close(release_forks=False)

    def release(self) -> None:
        if self.prewarmer is not None:
            self.prewarmer.close()
        self.prewarmer = self.recipe = None


_local = threading.local()
_STATES: list[_State] = []
_STATES_LOCK = threading.Lock()


def _forget_parent_states() -> None:
    """In a forked child (a pool worker): the states, pre-warmers and kernels are the parent's.
    Called by ``mlops_nb.process_hooks``."""
    global _local, _STATES, _STATES_LOCK, _terminated
    _local, _STATES, _STATES_LOCK = threading.local(), [], threading.Lock()
    _terminated = threading.Event()


def _state() -> _State:
    state = getattr(_local, "state", None)
    if state is None:
        state = _local.state = _State()
        with _STATES_LOCK:
            _STATES.append(state)
    return state


def release_all() -> None:
    """Kill the kernels warming ahead in this process (the sweep is over)."""
    with _STATES_LOCK:
        states = list(_STATES)
    for s in states:
        s.release()
        s.stop_file = None


def kernel_name_of(spec: RunSpec) -> str:
    if spec.kernel_name:
        return spec.kernel_name
    ks = spec.nb.get("metadata", {}).get("kernelspec") or {}
    return str(ks.get("name") or "python3")


def run_task(task: Task) -> Outcome:
    """Run one parameter set (with retries on kernel failure). Never raises."""
    from mlops_nb.errors import StoreError
    from mlops_nb.kernels import lifeline

    process_hooks.install()  # in a pool or dask worker: its kernels go when it exits

    try:
        with lifeline.busy():
            return _run(task)
    except StoreError as e:  # a full or read-only store: one line, no traceback
        error = {"ename": "StoreError", "evalue": e.message, "cell_index": None}
        return Outcome(task.index, "failed", error=error)
    except KeyboardInterrupt:  # its driver died before or after its run: the set did not run
        return Outcome(task.index, NOT_RUN)
    except BaseException as e:  # a bug or a broken store must not take the sweep down
        if lifeline.driver_lost() is None:
            log.exception("sweep task %s failed", task.index)
        error = {"ename": type(e).__name__, "evalue": str(e), "cell_index": None}
        return Outcome(task.index, "failed", error=error)
    finally:
        lifeline.exit_if_orphaned(release_all)


def _run(task: Task) -> Outcome:
    from mlops_nb.execution import runner
    from mlops_nb.store import runs as store

    state = _state()
    state.configure(task)
    run_ids: list[str] = []
    rec: dict[str, Any] = {}
    folder: Path | None = None
    for attempt in range(task.retries + 1):
        if state.stopped or stop_requested(task.stop_file):
            break
        factory = _warm_factory(state, kernel_name_of(task.spec), ahead=task.warm_ahead)
        if factory is None:  # stopped while its kernel was warming: the set does not run
            break
        begun: list[Path] = []
        try:
            folder = runner.execute_run(
                task.spec,
                handle_signals=False,
                kernel_manager_factory=factory,
                key=task.key,
                on_begin=begun.append,
            )
        except KeyboardInterrupt:  # its driver died (lifeline): the run was recorded lost
            if not begun:
                break
            folder = begun[0]
        finally:
            state.watch = None
        rec = store.read_record(folder)
        run_ids.append(str(rec["id"]))
        if rec.get("status") != "failed" or not kernel_failure(rec.get("error")):
            break
        if attempt < task.retries:
            log.info("run %s: the kernel failed (%s); retrying", rec["id"], rec["error"])
    if folder is None:
        return Outcome(task.index, NOT_RUN)
    return Outcome(
        task.index,
        str(rec.get("status")),
        run_ids=tuple(run_ids),
        folder=str(folder),
        error=rec.get("error"),
        duration_s=rec.get("duration_s"),
        scraps=dict(rec.get("scraps") or {}),
    )


def _warm_factory(state: _State, kernel_name: str, *, ahead: bool = True) -> Any:
    """A factory handing over a warm kernel, or one starting a cold kernel (the runner records
    any start failure) when pre-warming is off or the warm kernel could not be started; None
    when the worker was stopped meanwhile. ``ahead``: start warming the next kernel once this
    one is taken."""
    from mlops_nb.kernels.prewarm import factory_for

    def remember(watch: Any) -> None:
        state.watch = watch
        if state.stopped:
            watch.stop("interrupted", grace=0.5)

    if state.prewarmer is None:
        return _watching_default(remember, kernel_name)
    try:
        km = state.prewarmer.take(ahead=ahead)
    except KernelStartFailed as e:
        if state.stopped:  # the stop closed the pre-warmer: no run to start
            return None
        log.warning("pre-warmed kernel failed (%s); starting one the usual way", e)
        return _watching_default(remember, kernel_name)
    return factory_for(km, on_watch=remember)


def _watching_default(on_watch: Any, kernel_name: str) -> Any:
    from mlops_nb.kernels.manager import IPCKernelManager

    def factory(watch: Any) -> Any:
        on_watch(watch)
        return IPCKernelManager(kernel_name=kernel_name, watch=watch)

    return factory
