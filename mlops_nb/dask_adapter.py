"""The dask adapter: run sweep tasks on a dask.distributed cluster.

Without a scheduler address a ``LocalCluster`` of worker processes is started (and closed at the
end); with one (``tcp://host:8786``) the sweep connects to that cluster. Workers must see the same
files as this process: the notebook, its inputs and the runs folder (a shared filesystem), since
each run writes its record and output notebook there; a worker that does not fails the set with
one line saying which folder it lacks. dask is an optional extra.

Workers fork kernels from fork servers of their own, with the sweep's preload modules. When a
worker dies mid-run, the scheduler runs the task again on another worker (dask's rule for tasks
lost with their worker); the kernel dies with the worker's fork server. If the lost run had
finished before its worker died, the new attempt returns that run instead of running the set a
second time, so each set ends exactly once.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import logging
import os
from pathlib import Path
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
        dashboard_address=":0",  # no fixed port: 8787 may be taken (a shared machine)
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
        from mlops_nb.store.runs import utc_now

        self.started_at = utc_now()  # runs of this invocation start after this

    def submit(self, task: Task) -> cf.Future[Outcome]:
        run = functools.partial(run_on_worker, task, since=self.started_at)
        return self._pool.submit(run)  # type: ignore[no-any-return]

    def close(self, *, cancel: bool = False) -> None:
        try:
            self.client.run(_release)  # kill the kernels warming ahead on every worker
        except Exception:  # a worker gone away has no kernels left to release
            log.debug("releasing warm kernels on dask workers failed", exc_info=True)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def run_on_worker(task: Task, *, since: str) -> Outcome:
    """``run_task`` on a dask worker: first the folders it needs, then an earlier attempt of
    the same task (its worker died after the run ended: dask runs the task again)."""
    missing = _missing_folder(task)
    if missing is not None:
        error = {"ename": "WorkerSetupError", "evalue": missing, "cell_index": None}
        return Outcome(task.index, "failed", error=error)
    done = _finished_attempt(task, since)
    if done is not None:
        return done
    from mlops_nb.store import index

    index.keep_connections()  # a dask worker lives as long as a server: its connection stays
    return run_task(task)


def _missing_folder(task: Task) -> str | None:
    from mlops_nb.execution.runner import work_dir

    for what, folder in (
        ("the notebook's folder", work_dir(task.spec)),
        ("the runs folder", task.spec.runs_dir),
    ):
        if not Path(folder).is_dir():
            return (
                f"dask worker {_worker_name()} has no folder {folder} ({what}); dask workers must "
                "see the sweep's files at the same paths (a shared filesystem)."
            )
    return None


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def _finished_attempt(task: Task, since: str) -> Outcome | None:
    from mlops_nb.store import runs as store

    run_id = _ended_run(task.spec.runs_dir, task.key[0], task.spec.sweep_id, since)
    if run_id is None:
        return None
    rec = store.read_record(task.spec.runs_dir / run_id)
    return Outcome(
        task.index,
        str(rec.get("status")),
        run_ids=(run_id,),
        folder=str(task.spec.runs_dir / run_id),
        error=rec.get("error"),
        duration_s=rec.get("duration_s"),
        scraps=dict(rec.get("scraps") or {}),
    )


def _ended_run(runs_dir: Path, key: str, sweep_id: str | None, since: str) -> str | None:
    """The latest run of this sweep with this key that started at or after ``since`` and ended
    (ok, failed or timeout: an interrupted one is run again). From the index as runs leave it
    when they end (no scan of the runs folder)."""
    from mlops_nb.store import index

    @index._fork_safe
    def query() -> str | None:
        conn = index.open_index(runs_dir, sync=False)
        try:
            row = conn.execute(
                "SELECT id FROM runs WHERE key = ? AND sweep_id IS ? AND started_at >= ? "
                "AND status IN ('ok', 'failed', 'timeout') ORDER BY id DESC LIMIT 1",
                (key, sweep_id, since),
            ).fetchone()
        finally:
            conn.close()
        return None if row is None else str(row[0])

    return query()


__all__ = ["DaskExecutor", "MissingExtraError", "connect", "run_on_worker"]
