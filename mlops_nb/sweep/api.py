"""``sweep``: run one notebook over many parameter sets, in parallel, resumably; and ``Sweep``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_nb.execution.api import Run
from mlops_nb.notebook.io import read_notebook
from mlops_nb.store import runs as store
from mlops_nb.sweep import record
from mlops_nb.sweep.drive import execute
from mlops_nb.sweep.plan import expand, make_plan
from mlops_nb.sweep.preload import start_fork_server
from mlops_nb.sweep.progress import Progress


class Sweep:
    """A recorded sweep: its parameter sets, their runs, and a DataFrame-friendly summary."""

    def __init__(self, runs_dir: str | os.PathLike[str], data: dict[str, Any]) -> None:
        self.runs_dir = Path(runs_dir)
        self.record = data

    @classmethod
    def load(cls, sweep_id: str, *, runs_dir: str | os.PathLike[str] | None = None) -> Sweep:
        rdir = store.resolve_runs_dir(runs_dir)
        data = record.read(rdir, sweep_id)
        if data is None:
            from mlops_nb.errors import StoreError

            raise StoreError(f"no sweep {sweep_id!r} in {rdir / record.SWEEPS_DIR}.")
        return cls(rdir, data)

    id = property(lambda self: str(self.record["id"]))
    status = property(lambda self: str(self.record["status"]))
    ok = property(lambda self: self.record["status"] == "ok")
    interrupted = property(lambda self: self.record["status"] == "interrupted")
    entries = property(lambda self: list(self.record["runs"]))
    counts = property(lambda self: record.counts(self.record["runs"]))

    @property
    def path(self) -> Path:
        return record.record_path(self.runs_dir, self.id)

    @property
    def runs(self) -> list[Run]:
        """The latest run of every parameter set that ran (in set order)."""
        seen: dict[str, Run] = {}
        for e in self.entries:
            rid = e.get("run_id")
            if rid and rid not in seen and (self.runs_dir / rid / store.RECORD).is_file():
                seen[rid] = Run(self.runs_dir / rid)
        return list(seen.values())

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Entries that did not end ``ok`` (failed, timeout, interrupted or not run)."""
        return [e for e in self.entries if e.get("status") != "ok"]

    def summary(self) -> list[dict[str, Any]]:
        """One row per parameter set: index, run id, status, duration, params, scalar scraps."""
        rows = []
        for e in self.entries:
            row: dict[str, Any] = {
                "set": e["index"],
                "run_id": e.get("run_id"),
                "status": e.get("status"),
                "duration_s": e.get("duration_s"),
                "error": e.get("error"),
            }
            row.update({f"param.{k}": v for k, v in (e.get("params") or {}).items()})
            rid = e.get("run_id")
            if rid and (self.runs_dir / rid / store.RECORD).is_file():
                rec = store.read_record(self.runs_dir / rid)
                row["duration_s"] = rec.get("duration_s")
                row.update({f"scrap.{k}": v for k, v in (rec.get("scraps") or {}).items()})
            rows.append(row)
        return rows

    def to_dataframe(self) -> Any:
        """``summary()`` as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.summary())

    def __repr__(self) -> str:
        c = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        return f"Sweep(id={self.id!r}, status={self.status!r}, {c})"


def sweep(
    notebook: str | os.PathLike[str],
    grid: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    sets: Sequence[Mapping[str, Any]] | str | os.PathLike[str] | None = None,
    params: Mapping[str, Any] | None = None,
    sample: int | None = None,
    seed: int = 0,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    retries: int = 0,
    force: bool = False,
    fail_fast: bool = False,
    preload: str | Sequence[str] | None = None,
    prewarm: bool = True,
    fork: bool = True,
    name: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    kernel_name: str | None = None,
    progress: str | Progress = "quiet",
    handle_signals: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> Sweep:
    """Run ``notebook`` once per parameter set; returns the ``Sweep``.

    Sets come from ``grid`` (a mapping name → list of values, or a YAML file; the cartesian
    product, or ``sample`` sets drawn from it with ``seed``) or ``sets`` (a list of mappings, or a
    YAML/CSV file); ``params`` are shared by all. Every set is validated before anything runs
    (one ``ParameterError`` lists all bad sets). Runs execute on ``executor`` (``serial``,
    ``local``: ``workers`` processes, default one per CPU; ``dask``: ``scheduler`` address or a
    LocalCluster), each in a fresh kernel started ahead of time (``preload`` modules imported into
    it: ``"pandas,sklearn"``, or ``None``/``"auto"``, the default: the notebook's own fork-safe
    imports; ``""`` or ``()``: none but scrapbook); plain Python kernels are forked from a warmed-up
    template process unless ``fork`` is False (see ``mlops_nb.kernels.forking``). Calling it again resumes: sets whose run already
    succeeded are skipped unless ``force``. ``retries`` re-runs sets whose kernel died or failed
    to start; ``timeout`` limits each run; ``fail_fast`` stops launching after a failure.
    Ctrl-C/SIGTERM stops launching, records the runs in flight as ``interrupted`` and returns a
    Sweep whose ``status`` is ``interrupted``. ``progress``: ``auto``, ``bar``, ``lines``, ``quiet``.
    ``extra`` adds fields to every run record (a pipeline passes its ``pipeline`` entry).
    """
    from mlops_nb import process_hooks
    from mlops_nb.errors import UsageError

    process_hooks.install()  # before pool workers are forked; kernels stopped at exit
    if retries < 0:
        raise UsageError(f"--retries must be 0 or more, got {retries}.")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be 1 or more, got {workers}.")
    nb = read_notebook(notebook)
    # The fork server's template imports while the sets are checked and planned; pool workers
    # forked from this process share it.
    server = start_fork_server(
        nb,
        notebook=notebook,
        cwd=cwd,
        kernel_name=kernel_name,
        preload=preload,
        executor=executor,
        prewarm=prewarm,
        fork=fork,
    )
    try:
        found, source = expand(
            notebook, grid=grid, sets_=sets, params=params, sample=sample, seed=seed, nb=nb
        )
        plan = make_plan(
            notebook,
            found,
            source,
            nb=nb,
            runs_dir=runs_dir,
            name=name,
            timeout=timeout,
            cwd=cwd,
            kernel_name=kernel_name,
            preload=preload,
            absolute=executor == "dask",
            extra=extra,
        )
        data = execute(
            plan,
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            retries=retries,
            force=force,
            fail_fast=fail_fast,
            prewarm=prewarm,
            fork=fork,
            progress=progress,
            handle_signals=handle_signals,
        )
        return Sweep(plan.runs_dir, data)
    finally:
        if server is not None:
            from mlops_nb.kernels.forking import release

            release(server)
