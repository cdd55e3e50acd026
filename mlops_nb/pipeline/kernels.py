"""Forked, preloaded kernels for a pipeline's notebook steps (the machinery sweeps use).

At the start of ``pipeline run`` one fork server per (kernel, working directory) starts
importing, in its template, what every stale step imports (``--preload auto`` of each step's
notebook, fork-safe modules only: ``kernels.forksafety``). Each notebook step's kernel is then
forked from it (~0.1 s instead of a kernel boot plus the step's imports), and the pipeline's
sweep steps preload the same modules, so their workers share the same server. ``fork=False``
(``pipeline run --no-fork``) starts every kernel as a new process. The servers start when the
first stale step is about to run: a pipeline whose steps are all up to date starts none.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb.errors import MlopsNbError
from mlops_nb.pipeline.spec import Pipeline, Step

if TYPE_CHECKING:
    from mlops_nb.execution.runner import RunSpec

log = logging.getLogger(__name__)
_OPEN: dict[str, StepKernels] = {}  # pipeline invocation id -> its kernels


class StepKernels:
    """The fork servers of one pipeline invocation; ``close`` releases them."""

    def __init__(self, steps: Iterable[Step], *, fork: bool = True) -> None:
        self.steps = [s for s in steps if s.notebook is not None]
        self.fork = fork
        self._preload: tuple[str, ...] | None = None
        self._lock = threading.Lock()
        self._sources: dict[tuple[str, Path], Any] = {}
        self._started: list[Any] | None = None
        self._warming: dict[tuple[str, ...], threading.Thread] = {}

    @property
    def preload(self) -> tuple[str, ...]:
        """What the steps' notebooks import (computed when first needed)."""
        if self._preload is None:
            self._preload = _preload_of(self.steps)
        return self._preload

    def start(self) -> None:
        """Start the fork servers the steps need, in the background (once; best effort)."""
        from mlops_nb.kernels.fork_source import prestart_fork_server

        with self._lock:
            if self._started is not None or not self.fork:
                return
            self._started = []
            for kernel, cwd in dict.fromkeys(_where(s) for s in self.steps):
                server = prestart_fork_server(kernel, self.preload, cwd)
                if server is not None:
                    self._started.append(server)

    def warm(self, modules: tuple[str, ...]) -> None:
        """Import ``modules`` into this process in a background thread (once): a report step's
        pandas and seaborn load while the steps before it run in their kernels."""
        with self._lock:
            if modules in self._warming:
                return
            thread = threading.Thread(
                target=_import_all, args=(modules,), name="mlops-nb-warm", daemon=True
            )
            self._warming[modules] = thread
        thread.start()

    def settle(self) -> None:
        """Wait for the background imports: a process forked while another thread imports can
        inherit a module lock that nobody releases (its child hangs importing that module)."""
        with self._lock:
            threads = list(self._warming.values())
        for thread in threads:
            thread.join()

    def factory(self, kernel_name: str, cwd: Path) -> Callable[[Any], Any] | None:
        """A ``kernel_manager_factory`` for ``runner.execute_run`` whose kernel is forked from
        the template for (``kernel_name``, ``cwd``); None: start it the usual way."""
        if not self.fork:
            return None
        from mlops_nb.kernels.fork_source import ForkSource
        from mlops_nb.kernels.prewarm import KernelRecipe, WarmKernelManager

        key = (kernel_name, cwd.resolve())
        with self._lock:
            source = self._sources.get(key)
            if source is None:
                recipe = KernelRecipe(kernel_name, key[1], self.preload, fork=True)
                source = self._sources[key] = ForkSource(recipe)

        def make(watch: Any) -> Any:
            km = WarmKernelManager(kernel_name=kernel_name, watch=watch)
            km.fork_server = source.server(km.kernel_spec)  # None: not forkable, started as usual
            return km

        return make

    def close(self) -> None:
        self.settle()  # no import left running into the interpreter's shutdown
        with self._lock:
            sources, self._sources = list(self._sources.values()), {}
            started, self._started = self._started or [], []
        if not (sources or started):
            return  # nothing ran: nothing imported
        from mlops_nb.kernels.forking import release

        for source in sources:
            source.close()
        for server in started:
            release(server)


def _import_all(modules: tuple[str, ...]) -> None:
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # best effort: the step that needs it reports the failure
            log.debug("background import of %s failed", name, exc_info=True)
            return


def _where(step: Step) -> tuple[str, Path]:
    from mlops_nb.notebook.io import read_notebook

    assert step.notebook is not None
    ks = read_notebook(step.notebook).get("metadata", {}).get("kernelspec") or {}
    return str(ks.get("name") or "python3"), step.notebook.parent.resolve()


def _preload_of(steps: Iterable[Step]) -> tuple[str, ...]:
    """What the steps' notebooks import (``--preload auto`` of each), in order, once."""
    from mlops_nb.notebook.io import read_notebook
    from mlops_nb.sweep.preload import preload_modules

    found: list[str] = []
    for step in steps:
        if step.notebook is None:
            continue
        try:
            nb = read_notebook(step.notebook)
        except MlopsNbError:
            continue  # the step reports it when it runs
        found += preload_modules(None, nb, check=True, cwd=step.notebook.parent.resolve())
    return tuple(dict.fromkeys(found))


@contextlib.contextmanager
def opened(run_id: str, pipeline: Pipeline, *, fork: bool) -> Iterator[StepKernels]:
    """The kernels of pipeline invocation ``run_id`` while it runs; released afterwards."""
    kernels = _OPEN[run_id] = StepKernels(pipeline.steps.values(), fork=fork)
    try:
        yield kernels
    finally:
        _OPEN.pop(run_id, None)
        kernels.close()


def start(run_id: str) -> None:
    """Start the fork servers of invocation ``run_id`` (a step is about to run)."""
    kernels = _OPEN.get(run_id)
    if kernels is not None:
        kernels.start()


def warm(run_id: str, modules: tuple[str, ...]) -> None:
    """Import ``modules`` in the background for invocation ``run_id`` (``StepKernels.warm``)."""
    kernels = _OPEN.get(run_id)
    if kernels is not None:
        kernels.warm(modules)


def settle(run_id: str) -> None:
    """Wait for the background imports of invocation ``run_id`` (``StepKernels.settle``): a step
    about to import the same modules must not import them at the same time (two threads
    importing a package's modules in opposite orders can see it half initialised)."""
    kernels = _OPEN.get(run_id)
    if kernels is not None:
        kernels.settle()


def factory_for(run_id: str, spec: RunSpec) -> Callable[[Any], Any] | None:
    """The ``kernel_manager_factory`` for a notebook step's run (None: the usual kernel)."""
    kernels = _OPEN.get(run_id)
    if kernels is None:
        return None
    from mlops_nb.execution.runner import work_dir
    from mlops_nb.sweep.worker import kernel_name_of

    return kernels.factory(kernel_name_of(spec), work_dir(spec))


def sweep_options(run_id: str) -> dict[str, Any]:
    """``sweep()`` keywords that make a sweep step use the same (fork-safe) preloaded modules,
    hence the same fork server."""
    kernels = _OPEN.get(run_id)
    if kernels is None:
        return {}
    kernels.settle()  # the sweep's pool forks this process
    from mlops_nb.kernels.forksafety import split_unsafe

    return {"preload": split_unsafe(kernels.preload)[0], "fork": kernels.fork}
