"""Kernel pre-warming: the next kernel starts while the current run executes.

A ``Prewarmer`` keeps one kernel starting ahead for one recipe (kernel name, working directory,
modules to preload). ``take()`` hands over the warm kernel's manager and immediately starts the
next one in a background thread, so a worker running runs back to back never waits for a kernel
boot. Every run still gets a fresh kernel process: a warm kernel is used once, then shut down.

``--preload`` imports modules into the waiting kernel with a *silent* execute request: nothing is
bound in the user namespace and the execution count does not move, so the output notebook still
counts 1, 2, ... and the import cell of the notebook finds the modules already in ``sys.modules``.

With ``fork`` (the default), plain Python kernels are forked from a ``forking.ForkServer``
(chosen by ``fork_source.ForkSource``) whose template has already imported ipykernel and the
preload modules (~0.1 s of CPU per kernel instead of ~0.5 s); when that is not possible the
kernel starts the usual way, with a warning.

The kernel manager handed over is already started, so nbclient only connects a client to it (a
``manager.ReadyClient``, as for every run).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_nb import process_hooks
from mlops_nb.errors import KernelStartFailed
from mlops_nb.kernels.fork_source import ForkSource
from mlops_nb.kernels.killer import kernel_pid, kill_kernel
from mlops_nb.kernels.manager import IPCKernelManager
from mlops_nb.kernels.watch import KernelWatch

log = logging.getLogger(__name__)
_NO_HISTORY = "--HistoryManager.hist_file=:memory:"


class WarmKernelManager(IPCKernelManager):
    """An IPC kernel manager that can tell whether its kernel is alive without an event loop."""

    def alive(self) -> bool:
        """The kernel process exists and is not a zombie (no event loop needed)."""
        w = KernelWatch()
        w.pid = kernel_pid(self)
        return w.alive()


@dataclass(frozen=True)
class KernelRecipe:
    """What a warm kernel must be: which kernel, where, with which modules already imported."""

    kernel_name: str = "python3"
    cwd: Path = Path(".")
    preload: tuple[str, ...] = ()
    start_timeout: float = 60.0
    fork: bool = False


def preload_code(modules: Sequence[str]) -> str:
    """Code importing ``modules`` without binding any name in the user namespace."""
    names = ", ".join(repr(m) for m in modules)
    return f"for _ in ({names},): __import__('importlib').import_module(_)\ndel _\n"


async def _preload(kc: Any, modules: Sequence[str], timeout: float) -> None:
    msg_id = kc.execute(preload_code(modules), silent=True, store_history=False)
    reply = await kc._async_recv_reply(msg_id, timeout=timeout)
    content = reply.get("content", {})
    if content.get("status") != "ok":
        log.warning(
            "--preload %s failed in the kernel: %s: %s",
            ",".join(modules),
            content.get("ename"),
            content.get("evalue"),
        )


async def _start(
    recipe: KernelRecipe, watch: KernelWatch | None, forks: ForkSource | None
) -> WarmKernelManager:
    km = WarmKernelManager(kernel_name=recipe.kernel_name, watch=watch)
    if forks is not None:
        km.fork_server = forks.server(km.kernel_spec)
    try:
        # As nbclient starts kernels: no IPython history database (parallel kernels would share it).
        await km.start_kernel(cwd=str(recipe.cwd), extra_arguments=[_NO_HISTORY])
        if km.fork_server is not None:
            # Forked from a template that has imported the preload modules: nothing to wait for
            # here (it is ready in ~0.1 s); the run's own client checks it is (nbclient).
            return km
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=recipe.start_timeout)
            if recipe.preload:
                await _preload(kc, recipe.preload, recipe.start_timeout)
        finally:
            kc.stop_channels()
    except BaseException:
        kill_kernel(km)
        raise
    return km


def start_kernel(
    recipe: KernelRecipe, watch: KernelWatch | None = None, forks: ForkSource | None = None
) -> WarmKernelManager:
    """Start one kernel for ``recipe`` (blocking; runs its own event loop), forked from
    ``forks``' server when it has one. ``watch`` learns the kernel's pid as soon as it is
    launched, so another thread can kill a kernel still booting."""
    try:
        return asyncio.run(_start(recipe, watch, forks))
    except Exception as e:
        raise KernelStartFailed(f"{type(e).__name__}: {e}") from e


class Prewarmer:
    """One kernel always starting ahead for one recipe. Thread-safe; close() kills what it holds."""

    def __init__(self, recipe: KernelRecipe) -> None:
        self.recipe = recipe
        self._lock = threading.Lock()
        self._next: Future[WarmKernelManager] | None = None
        self._closed = False
        self._watch: KernelWatch | None = None
        self._thread: threading.Thread | None = None
        self._forks = ForkSource(recipe) if recipe.fork else None
        _LIVE.add(self)
        process_hooks.install()  # its kernels are killed when this process ends

    def warm(self) -> None:
        """Start warming a kernel unless one is already on its way."""
        with self._lock:
            if self._closed or self._next is not None:
                return
            fut: Future[WarmKernelManager] = Future()
            self._next = fut
            watch = self._watch = KernelWatch()
            thread = self._thread = threading.Thread(
                target=self._fill, args=(fut, watch), name="mlops-nb-prewarm", daemon=True
            )
        thread.start()

    def _fill(self, fut: Future[WarmKernelManager], watch: KernelWatch) -> None:
        try:
            km = start_kernel(self.recipe, watch, self._forks)
        except BaseException as e:
            fut.set_exception(e)
            return
        with self._lock:
            closed = self._closed
        if closed:
            kill_kernel(km)
            fut.set_exception(KernelStartFailed("the pre-warmer was closed"))
        else:
            fut.set_result(km)

    def take(self, *, ahead: bool = True) -> WarmKernelManager:
        """The warm kernel's manager (waits for it if still starting); starts the next one."""
        self.warm()
        with self._lock:
            fut, self._next = self._next, None
        if fut is None:
            raise KernelStartFailed("the pre-warmer was closed")
        try:
            km = fut.result(timeout=self.recipe.start_timeout + 5)
        except TimeoutError:
            # it may still come up later: kill it then, nobody will use it
            fut.add_done_callback(lambda f: None if f.exception() else kill_kernel(f.result()))
            raise KernelStartFailed("the warm kernel did not start in time") from None
        if ahead:
            self.warm()
        if not km.alive():
            kill_kernel(km)
            raise KernelStartFailed("the warm kernel died while waiting to be used")
        server = km.fork_server
        if server is not None and not server.alive():
            # ipykernel's parent poller ends a kernel whose parent (its fork server) is gone
            # within about a second: it would die in the middle of the run it was given
            kill_kernel(km)
            raise KernelStartFailed("the warm kernel's fork server died while it waited")
        return km

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, *, wait: float = 5.0, release_forks: bool = True) -> None:
        """Kill the kernel warming ahead (if any); no new one is started afterwards. The fork
        server is released unless ``release_forks`` is False (a run still executing on one of
        its kernels: call close() again once it is over)."""
        with self._lock:
            self._closed = True
            fut, self._next = self._next, None
            watch, thread = self._watch, self._thread
        _LIVE.discard(self)
        try:
            self._close_warm(fut, watch, thread, wait)
        finally:
            if release_forks and self._forks is not None:
                self._forks.close()

    def _close_warm(
        self,
        fut: Future[WarmKernelManager] | None,
        watch: KernelWatch | None,
        thread: threading.Thread | None,
        wait: float,
    ) -> None:
        if fut is None:
            return
        if watch is not None:
            # A kernel still booting dies now (or as soon as its pid is known); its starter fails.
            # SIGKILL first (a SIGINT would print a KeyboardInterrupt traceback from the kernel);
            # stop() then makes a kernel whose pid is not known yet die as soon as it is.
            watch.kill()
            watch.stop("closed", grace=0.0)
        if thread is not None and wait:
            thread.join(wait)
        if fut.done() and fut.exception() is None:
            kill_kernel(fut.result())


def factory_for(
    km: WarmKernelManager, on_watch: Callable[[KernelWatch], None] | None = None
) -> Callable[[KernelWatch], Any]:
    """A ``kernel_manager_factory`` for ``runner.execute_run`` handing over a started kernel."""

    def factory(watch: KernelWatch) -> Any:
        km.watch = watch
        if on_watch is not None:
            on_watch(watch)
        watch.attach(kernel_pid(km))
        return km

    return factory


_LIVE: weakref.WeakSet[Prewarmer] = weakref.WeakSet()


def forget_parent_prewarmers() -> None:
    """In a forked child (``process_hooks``): the kernels warming here are its parent's."""
    _LIVE.clear()


def close_all() -> None:
    """Kill every kernel still warming in this process (at exit, on interrupt)."""
    for p in list(_LIVE):
        p.close()
