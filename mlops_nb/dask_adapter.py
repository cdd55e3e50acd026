"""The dask adapter: run sweep tasks on a dask.distributed cluster.

Without a scheduler address a ``LocalCluster`` of worker processes is started (and closed at the
end); with one (``tcp://host:8786``) the sweep connects to that cluster. Workers must see the same
files as this process: the notebook, its inputs and the runs folder (a shared filesystem), since
each run writes its record and output notebook there. dask is an optional extra.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
from typing import Any

from mlops_nb.errors import MissingExtraError, UsageError, missing_extra
from mlops_nb.sweep.worker import Outcome, Task, release_all, run_task

log = logging.getLogger(__name__)


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise missing_extra("distributed", "dask", "--executor dask") from None
    return distributed


def connect(scheduler: str | None, *, workers: int | None = None) -> tuple[Any, Any]:
    """``(client, cluster)``; ``cluster`` is the LocalCluster we started, or None."""
    distributed = _distributed()
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise UsageError(
                f"cannot reach the dask scheduler at {scheduler}: {e}. Check the address "
                "(e.g. tcp://host:8786) and that `dask scheduler` is running."
            ) from None
        return client, None
    cluster = distributed.LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    return distributed.Client(cluster, set_as_default=False), cluster


def _release() -> None:
    release_all()


class DaskExecutor:
    """Tasks go to dask workers; each worker thread keeps its next kernel warming."""

    name = "dask"

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None) -> None:
        self.client, self.cluster = connect(scheduler, workers=workers)
        threads = sum(self.client.nthreads().values()) or 1
        self.capacity = min(workers, threads) if workers and scheduler else threads
        self._pool = self.client.get_executor(pure=False)

    def submit(self, task: Task) -> cf.Future[Outcome]:
        return self._pool.submit(run_task, task)  # type: ignore[no-any-return]

    def close(self, *, cancel: bool = False) -> None:
        try:
            self.client.run(_release)  # kill the kernels warming ahead on every worker
        except Exception:  # a worker gone away has no kernels left to release
            log.debug("releasing warm kernels on dask workers failed", exc_info=True)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


__all__ = ["DaskExecutor", "MissingExtraError", "connect"]
