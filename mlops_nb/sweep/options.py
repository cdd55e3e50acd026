"""How a sweep is driven: ``SweepOptions``, checked when made, before anything is recorded."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_nb.errors import UsageError
from mlops_nb.sweep import executors
from mlops_nb.sweep.progress import Progress

__all__ = ["SweepOptions"]


@dataclass(frozen=True)
class SweepOptions:
    """How a plan is driven (``sweep()``'s keywords of the same names).

    Runs execute on ``executor``: ``serial`` (here, one at a time), ``local`` (``workers``
    processes, default one per CPU) or ``dask`` (``scheduler`` address, or a LocalCluster), or a
    plugin's (``executors``). Sets whose run already succeeded are skipped unless ``force``;
    ``retries`` re-runs sets whose kernel died or failed to start; ``fail_fast`` stops launching
    after a failure. Kernels are started ahead of time unless ``prewarm`` is False, and plain
    Python kernels are forked from a warmed-up template unless ``fork`` is False
    (``execution.forking``). ``progress``: ``auto``, ``bar``, ``lines``, ``quiet`` or a
    ``Progress``. ``handle_signals``: Ctrl-C/SIGTERM stop launching and record the runs in
    flight as ``interrupted`` (a caller that owns the signals passes False).

    Raises ``UsageError`` for a negative ``retries``, ``workers`` below 1, an unknown
    ``executor`` (listing the known ones) or a ``scheduler`` for the serial or local executor,
    whether or not any set will need to run.
    """

    executor: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    retries: int = 0
    force: bool = False
    fail_fast: bool = False
    prewarm: bool = True
    fork: bool = True
    progress: str | Progress = "quiet"
    handle_signals: bool = True

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise UsageError(f"--retries must be 0 or more, got {self.retries}.")
        if self.workers is not None and self.workers < 1:
            raise UsageError(f"--workers must be 1 or more, got {self.workers}.")
        executors.check(self.executor)
        if self.scheduler and self.executor in ("serial", "local"):
            raise UsageError("--scheduler only applies to --executor dask.")
