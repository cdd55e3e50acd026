"""``sweep``: run one notebook over many parameter sets, in parallel, resumably; and ``Sweep``."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_nb.execution.api import Run
from mlops_nb.notebook.io import read_notebook
from mlops_nb.store import runs as store
from mlops_nb.sweep import record
from mlops_nb.sweep.drive import execute
from mlops_nb.sweep.options import SweepOptions
from mlops_nb.sweep.plan import PlanOptions, expand, make_plan
from mlops_nb.sweep.preload import start_fork_server
from mlops_nb.sweep.progress import Progress
from mlops_nb.sweep.record import SweepRecord


class Sweep:
    """A recorded sweep: its parameter sets, their runs, and a DataFrame-friendly summary.

    ``sweep_record`` is the typed record (``record.SweepRecord``); ``record`` is its JSON object
    (what ``sweep --json`` prints), and ``entries`` its sets as JSON objects.
    """

    def __init__(
        self, runs_dir: str | os.PathLike[str], data: SweepRecord | Mapping[str, Any]
    ) -> None:
        self.runs_dir = Path(runs_dir)
        self.sweep_record = data if isinstance(data, SweepRecord) else SweepRecord.from_json(data)
        self.record = self.sweep_record.to_json()

    @classmethod
    def load(cls, sweep_id: str, *, runs_dir: str | os.PathLike[str] | None = None) -> Sweep:
        """The sweep ``sweep_id``: its full id or a prefix of one sweep's id, as ``show`` takes
        run ids (``StoreError``: no such sweep, or a prefix of several, listing them)."""
        rdir = store.resolve_runs_dir(runs_dir)
        data = record.load(rdir, _sweep_id(rdir, sweep_id))
        if data is None:  # its record went away meanwhile
            from mlops_nb.errors import StoreError

            raise StoreError(f"no sweep {sweep_id!r} in {rdir / record.SWEEPS_DIR}.")
        return cls(rdir, data)

    id = property(lambda self: self.sweep_record.id)
    status = property(lambda self: self.sweep_record.status)
    ok = property(lambda self: self.sweep_record.status == "ok")
    interrupted = property(lambda self: self.sweep_record.status == "interrupted")
    entries = property(lambda self: [e.to_json() for e in self.sweep_record.runs])
    counts = property(lambda self: self.sweep_record.counts)

    @property
    def path(self) -> Path:
        return record.record_path(self.runs_dir, self.id)

    @property
    def runs(self) -> list[Run]:
        """The latest run of every parameter set that ran (in set order)."""
        seen: dict[str, Run] = {}
        for e in self.sweep_record.runs:
            rid = e.run_id
            if rid and rid not in seen and (self.runs_dir / rid / store.RECORD).is_file():
                seen[rid] = Run(self.runs_dir / rid)
        return list(seen.values())

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Entries that did not end ``ok`` (failed, timeout, interrupted or not run)."""
        return [e.to_json() for e in self.sweep_record.runs if e.status != "ok"]

    def summary(self, *, collect_names: bool = False) -> list[dict[str, Any]]:
        """One row per parameter set: ``set``, ``run_id``, ``status``, ``duration_s``, ``error``,
        then ``param.NAME`` and ``scrap.NAME`` columns (the names of every release), or with
        ``collect_names`` the ``params.NAME`` and ``scraps.NAME`` of ``mlops_nb.collect``."""
        param, scrap = ("params.", "scraps.") if collect_names else ("param.", "scrap.")
        rows = []
        for e in self.sweep_record.runs:
            row: dict[str, Any] = {
                "set": e.index,
                "run_id": e.run_id,
                "status": e.status,
                "duration_s": e.duration_s,
                "error": e.error,
            }
            row.update({f"{param}{k}": v for k, v in e.params.items()})
            if e.run_id and (self.runs_dir / e.run_id / store.RECORD).is_file():
                rec = store.read_record(self.runs_dir / e.run_id)
                row["duration_s"] = rec.get("duration_s")
                row.update({f"{scrap}{k}": v for k, v in (rec.get("scraps") or {}).items()})
            rows.append(row)
        return rows

    def to_dataframe(self, *, collect_names: bool = False) -> Any:
        """``summary()`` as a pandas DataFrame (``collect_names``: ``params.X``/``scraps.X``
        columns, as ``mlops_nb.collect`` names them, instead of ``param.X``/``scrap.X``)."""
        import pandas as pd

        return pd.DataFrame(self.summary(collect_names=collect_names))

    def __repr__(self) -> str:
        c = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        return f"Sweep(id={self.id!r}, status={self.status!r}, {c})"


def _sweep_id(runs_dir: Path, ref: str) -> str:
    """The id of the one sweep recorded in ``runs_dir`` whose id is ``ref`` or starts with it."""
    from mlops_nb.errors import StoreError
    from mlops_nb.store.names import some

    folder = runs_dir / record.SWEEPS_DIR
    ids = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
    if ref in ids:
        return ref
    found = [i for i in ids if ref and i.startswith(ref)]
    if len(found) == 1:
        return found[0]
    if found:
        raise StoreError(
            f"{ref!r} matches {len(found)} sweeps in {folder}: {some(found)}; give more of the id."
        )
    have = f"its sweeps: {some(ids)}" if ids else "none yet"
    raise StoreError(f"no sweep {ref!r} in {folder} ({have}).")


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
    """Run ``notebook`` once per parameter set; returns the ``Sweep``. Calling it again resumes.

    Sets come from ``grid`` (a mapping name → list of values, or a YAML file; the cartesian
    product, or ``sample`` sets drawn from it with ``seed``) or ``sets`` (a list of mappings, or a
    YAML/CSV file); ``params`` are shared by all. Every set is validated before anything runs
    (one ``ParameterError`` lists all bad sets). Each run gets a fresh kernel (``kernel_name``,
    working directory ``cwd``) started ahead of time, with ``preload`` modules imported
    (``"pandas,sklearn"``; ``None``/``"auto"``, the default: the notebook's own fork-safe
    imports; ``""`` or ``()``: none but scrapbook; see ``sweep.preload``); ``timeout`` limits
    each run, ``name`` labels the runs, ``extra`` adds fields to every run record (a pipeline
    passes its ``pipeline`` entry). How the runs are driven (``executor``, ``workers``,
    ``scheduler``, ``retries``, ``force``, ``fail_fast``, ``prewarm``, ``fork``, ``progress``,
    ``handle_signals``): ``options.SweepOptions``. Ctrl-C/SIGTERM returns a Sweep whose ``status``
    is ``interrupted``. Bad input raises ``UsageError``/``ParameterError`` before anything runs.
    """
    given = locals()  # the parameters by name: each goes to the one value that takes it
    opts = SweepOptions(**{f.name: given[f.name] for f in dataclasses.fields(SweepOptions)})
    plan = PlanOptions(**{f.name: given[f.name] for f in dataclasses.fields(PlanOptions)})
    return _run(notebook, grid, plan, opts)


def _run(
    notebook: str | os.PathLike[str],
    grid: Mapping[str, Any] | str | os.PathLike[str] | None,
    s: PlanOptions,
    opts: SweepOptions,
) -> Sweep:
    from mlops_nb import process_hooks

    process_hooks.install()  # before pool workers are forked; kernels stopped at exit
    nb = read_notebook(notebook)
    # The fork server's template imports while the sets are checked and planned; pool workers
    # forked from this process share it.
    server = start_fork_server(
        nb,
        notebook=notebook,
        cwd=s.cwd,
        kernel_name=s.kernel_name,
        preload=s.preload,
        executor=opts.executor,
        prewarm=opts.prewarm,
        fork=opts.fork,
    )
    try:
        found, source = expand(
            notebook, grid=grid, sets_=s.sets, params=s.params, sample=s.sample, seed=s.seed, nb=nb
        )
        plan = make_plan(
            notebook, found, source, nb=nb, options=s, absolute=opts.executor == "dask"
        )
        return Sweep(plan.runs_dir, execute(plan, opts))
    finally:
        if server is not None:
            from mlops_nb.kernels.forking import release

            release(server)
