"""The papermill adapter: execute a parameterized notebook with papermill's nbclient engine.

We register our own papermill engine (papermill's extension point) so that we own the kernel
manager: an IPC-transport kernel, watched for resources and stoppable from another thread, shut
down immediately at the end (a graceful shutdown stalls 3.5 s one time in ten; FACTS.md), and
the executing notebook object stays reachable even when execution raises.

Parameters are injected by ``mlops_nb.notebook.params.inject`` (literals only), not by papermill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4.rwbase import rejoin_lines

from mlops_nb.kernels.manager import IPCKernelManager
from mlops_nb.kernels.watch import KernelWatch


@contextlib.contextmanager
def _without(*names: str) -> Iterator[None]:
    """Make ``import name`` fail while the block runs (modules not imported yet only)."""
    added = [n for n in names if n not in sys.modules]
    for n in added:
        sys.modules[n] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for n in added:
            if n in sys.modules and sys.modules[n] is None:
                del sys.modules[n]


# papermill imports pyarrow (and with it numpy) only for hdfs:// paths, which we never use: half
# of papermill's import time, paid by every process that runs notebooks.
with _without("pyarrow"):
    import papermill.clientwrap  # noqa: F401 - execution.client subclasses its client
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.execute import prepare_notebook_metadata, remove_error_markers

log = logging.getLogger(__name__)
ENGINE = "mlops-nb"


def _kernel_log() -> logging.Logger:
    """nbclient's own messages ('Kernel died while waiting...'): we report outcomes in the run
    record and in our own words, so they are only shown with MLOPS_NB_DEBUG=1."""
    logger = logging.getLogger("mlops_nb.nbclient")
    if not os.environ.get("MLOPS_NB_DEBUG"):
        logger.setLevel(logging.CRITICAL + 1)
    return logger


@dataclass
class Execution:
    """Shared state between the thread that executes and the one that watches."""

    watch: KernelWatch = field(default_factory=KernelWatch)
    nb: Any = None  # the NotebookNode being executed (papermill's nb_man.nb)
    current_cell: int | None = None  # index (in the executed notebook) of the cell running
    # error replies from the kernel, by cell index: some errors leave no error output
    # (IPython's UsageError for a bad magic is a stderr line), so the reply is the truth.
    error_replies: dict[int, dict[str, Any]] = field(default_factory=dict)
    kernel_manager_factory: Callable[[KernelWatch], Any] | None = None
    output_cuts: list[dict[str, Any]] = field(default_factory=list)  # see execution.client
    finished: bool = False  # the runner wrote the final notebook: no partial save any more
    done: threading.Event = field(default_factory=threading.Event)  # the execution thread ended


class MlopsEngine(NBClientEngine):  # type: ignore[misc]
    """papermill's nbclient engine, with a kernel manager we create and clean up ourselves."""

    @classmethod
    def execute_notebook(
        cls,
        nb: Any,
        kernel_name: str,
        output_path: str | None = None,
        progress_bar: bool = True,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        **kwargs: Any,
    ) -> Any:
        """papermill's ``Engine.execute_notebook``, with the partial-notebook saves throttled
        and harmless (a full disk stops them, never the run) from the first one on."""
        from papermill.engines import NotebookExecutionManager

        nb_man = NotebookExecutionManager(
            nb,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        nb_man.save = throttled = _Throttled(
            PARTIAL_SAVE_S, _tolerant(nb_man.save, output_path, kwargs.get("execution"))
        )
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
            throttled.cancel()
        return nb_man.nb

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: float = 60,
        execution_timeout: float | None = None,
        execution: Execution | None = None,
        cwd: str | None = None,
        **kwargs: Any,
    ) -> Any:
        assert execution is not None
        execution.nb = nb_man.nb
        factory = execution.kernel_manager_factory
        km = (
            factory(execution.watch)
            if factory
            else IPCKernelManager(kernel_name=kernel_name, watch=execution.watch)
        )

        def on_cell_start(cell: Any, cell_index: int) -> None:
            execution.current_cell = cell_index

        def on_cell_error(cell: Any, cell_index: int, execute_reply: Any) -> None:
            execution.error_replies[cell_index] = dict(execute_reply.get("content") or {})

        from mlops_nb.execution.client import MlopsNotebookClient
        from mlops_nb.execution.stream_cap import StreamCap, output_limit

        folder = Path(nb_man.output_path).parent if nb_man.output_path else None
        cap = StreamCap(output_limit(), folder)
        client = MlopsNotebookClient(
            nb_man,
            stream_cap=cap,
            km=km,
            kernel_name=kernel_name,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            log=_kernel_log(),
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            shutdown_kernel="immediate",
            on_cell_start=on_cell_start,
            on_cell_error=on_cell_error,
            allow_errors=bool(kwargs.get("allow_errors", False)),
        )
        start_kwargs: dict[str, Any] = {"cleanup_kc": True}
        if cwd is not None and not km.has_kernel:
            start_kwargs["cwd"] = cwd
        try:
            return client.execute(**start_kwargs)
        finally:
            cap.close()
            execution.output_cuts.extend(cap.cuts)


papermill_engines.register(ENGINE, MlopsEngine)
PARTIAL_SAVE_S = 1.0  # the partial output notebook is saved at most this often


def _tolerant(save: Callable[..., Any], path: str | None, execution: Any) -> Callable[..., Any]:
    """papermill's save of the partial notebook, stopped (and its file removed) at the first
    OSError: it only matters if this process dies, and a full disk must not fail the run."""
    broken = False

    def tolerant(**kwargs: Any) -> Any:
        nonlocal broken
        if broken or getattr(execution, "finished", False):
            return None
        try:
            return save(**kwargs)
        except OSError as e:
            broken = True
            log.warning("partial output notebook no longer saved: %s", e.strerror or e)
            if path:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            return None

    return tolerant


# papermill saves the whole notebook before and after every cell (~5 ms each); the partial
# output only matters if this process dies, and the runner writes the final one.
class _Throttled:
    """papermill's ``save`` at most every ``seconds``: a save asked for sooner happens when the
    interval is up, on the event loop that runs the notebook (so even during a long, silent
    cell the partial notebook shows the cells done so far and the one running)."""

    def __init__(self, seconds: float, save: Callable[..., Any]) -> None:
        from jupyter_core.utils import ensure_event_loop

        self.seconds, self.save = seconds, save
        self.last = time.monotonic() - seconds  # the first save (notebook_start) happens now
        self.loop = ensure_event_loop()  # the loop nbclient runs cells on, in this thread
        self.pending: asyncio.TimerHandle | None = None

    def __call__(self, **kwargs: Any) -> Any:
        wait = self.seconds - (time.monotonic() - self.last)
        if wait <= 0:
            self.cancel()
            return self._save(**kwargs)
        if self.pending is None:
            self.pending = self.loop.call_later(wait, lambda: self._save(**kwargs))
        return None

    def _save(self, **kwargs: Any) -> Any:
        self.pending = None
        self.last = time.monotonic()
        return self.save(**kwargs)

    def cancel(self) -> None:
        """No save after the run (the runner writes the final notebook and removes this one)."""
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None


def execute(
    nb: dict[str, Any],
    *,
    input_path: Path,
    partial_output: Path,
    execution: Execution,
    cwd: Path,
    kernel_name: str | None = None,
    start_timeout: float = 60,
    log_output: bool = False,
    allow_errors: bool = False,
) -> Any:
    """Execute an already-parameterized notebook; returns the executed NotebookNode.

    Writes the notebook to ``partial_output`` as cells run (papermill's autosave), so a crash of
    this process still leaves the outputs so far on disk. Raises what execution raises
    (DeadKernelError, kernel start errors); cell exceptions are in the notebook, not raised.
    """
    # Jupyter saves sources and outputs as lists of lines; nbclient wants strings (as nbformat.read
    # gives them).
    node = rejoin_lines(nbformat.from_dict(nb))  # type: ignore[no-untyped-call]
    node = prepare_notebook_metadata(node, str(input_path), str(partial_output))
    node = remove_error_markers(node)
    name = papermill_engines.nb_kernel_name(engine_name=ENGINE, nb=node, name=kernel_name)
    return papermill_engines.execute_notebook_with_engine(
        ENGINE,
        node,
        kernel_name=name,
        input_path=str(input_path),
        output_path=str(partial_output),
        progress_bar=False,
        log_output=False,  # papermill's logger; streams go to stdout/stderr below instead
        stdout_file=sys.stdout if log_output else None,
        stderr_file=sys.stderr if log_output else None,
        allow_errors=allow_errors,
        start_timeout=start_timeout,
        execution=execution,
        cwd=str(cwd),
    )


def notebook_to_json(node: Any) -> str:
    return str(nbformat.writes(node))  # type: ignore[no-untyped-call]
