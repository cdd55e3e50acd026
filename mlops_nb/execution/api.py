"""The Python API for single runs: ``run``, ``load`` (a notebook as a function) and ``Run``."""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_nb.errors import EXIT_FAILED, MlopsNbError, RunInterrupted, StoreError
from mlops_nb.store import runs as store
from mlops_nb.store.record import RunRecord


class RunFailed(MlopsNbError):
    """A notebook called as a function (``load``) did not finish ``ok``."""

    exit_code = EXIT_FAILED


class Run:
    """One recorded run: its folder, record, output notebook and scraps.

    ``record`` is ``run.json`` as a dict (the README's record table); ``run_record`` the same
    record typed and migrated to the current schema (``mlops_nb.store.record.RunRecord``).
    Raises ``StoreError`` when the folder holds no readable run record.
    """

    def __init__(self, path: str | os.PathLike[str], record: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.record = record if record is not None else store.read_record(self.path)
        try:
            self.run_record = RunRecord.from_json(self.record)
        except ValueError as e:
            raise StoreError(f"{self.path / store.RECORD}: {e}.") from None
        self.reused = False  # True when ``run(reuse=True)`` returned an earlier run

    @classmethod
    def find(cls, ref: str, *, runs_dir: str | os.PathLike[str] | None = None) -> Run:
        """A run by id, unique id prefix, name, or ``latest``."""
        from mlops_nb.store.lookup import resolve_run

        return cls(resolve_run(store.resolve_runs_dir(runs_dir), ref))

    id = property(lambda self: self.run_record.id)
    name = property(lambda self: self.run_record.name)
    status = property(lambda self: self.run_record.status)
    params = property(lambda self: dict(self.run_record.params))
    error = property(lambda self: self.run_record.error)
    ok = property(lambda self: self.run_record.status == "ok")
    duration_s = property(lambda self: self.run_record.duration_s)

    @property
    def output_notebook(self) -> Path:
        return self.path / store.OUTPUT

    @functools.cached_property
    def scraps(self) -> dict[str, Any]:
        """Every glued value with its type (numbers, strings, lists, dicts, DataFrames)."""
        from mlops_nb.results.scraps import scraps_of

        with open(self.output_notebook, encoding="utf-8") as f:
            nb = json.load(f)
        return {name: s.value() for name, s in scraps_of(nb).items()}

    def error_line(self) -> str:
        e = self.error or {}
        cell = e.get("cell_index")
        where = f" in cell {cell + 1}" if isinstance(cell, int) else ""
        return f"{e.get('ename')}: {e.get('evalue')}{where}"

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, status={self.status!r}, path={str(self.path)!r})"


def run(
    notebook: str | os.PathLike[str],
    params: Mapping[str, Any] | None = None,
    *,
    name: str | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    reuse: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    kernel_name: str | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    metrics_file: str | os.PathLike[str] | None = None,
    upstream: Mapping[str, str] | None = None,
    log_output: bool = False,
    allow_errors: bool = False,
) -> Run:
    """Run a parameterized notebook once, in a fresh kernel, and record everything.

    Parameters are validated against the notebook's ``parameters`` cell before any kernel starts
    (``ParameterError``). A notebook that fails, dies or times out gives a ``Run`` whose ``status``
    says so; Ctrl-C/SIGTERM records the run as ``interrupted`` and raises ``RunInterrupted``.
    With ``reuse=True`` an earlier successful run with the same key (code, parameters, inputs) is
    returned instead of executing. ``log_output`` streams the cells' output to this process's
    stdout/stderr as they run (papermill's ``--log-output``); ``allow_errors`` runs past failing
    cells (the run is still ``failed``; the record's ``errors`` lists every error).
    ``output_dir`` (a folder; the notebook must declare ``output_dir``) receives the artifacts,
    recorded with their hashes; ``upstream`` (``{step: folder}``) fills the notebook's
    ``upstream`` parameter; ``metrics_file`` gets the scalar scraps as JSON (for DVC/Kubeflow).
    """
    from mlops_nb import process_hooks
    from mlops_nb.execution import outputs, runner

    process_hooks.install()
    outputs.check_metrics_file(metrics_file)
    spec = runner.prepare(
        notebook,
        outputs.with_flags(notebook, params, output_dir=output_dir, upstream=upstream),
        runs_dir=runs_dir,
        name=name,
        timeout=timeout,
        cwd=cwd,
        kernel_name=kernel_name,
        log_output=log_output,
        allow_errors=allow_errors,
    )
    key = runner.key_of(spec)
    earlier = _reused(spec.runs_dir, key[0], metrics_file) if reuse else None
    if earlier is not None:
        return earlier
    folder = runner.execute_run(spec, key=key)
    result = _with_metrics(Run(folder), metrics_file)
    if result.status == "interrupted":
        raise RunInterrupted(
            f"interrupted: run {result.id} is recorded as 'interrupted' in {result.path}"
        )
    return result


def _reused(runs_dir: Path, key: str, metrics_file: str | os.PathLike[str] | None) -> Run | None:
    """An earlier successful run with the same key (``reuse=True``), or None."""
    from mlops_nb.store import index

    found = index.find_ok_by_key(runs_dir, key)
    if found is None:
        return None
    earlier = _with_metrics(Run(found), metrics_file)
    earlier.reused = True
    return earlier


def _with_metrics(result: Run, metrics_file: str | os.PathLike[str] | None) -> Run:
    if metrics_file is not None:
        from mlops_nb.execution.outputs import write_metrics

        write_metrics(metrics_file, result.record.get("scraps") or {})
    return result


class NotebookFunction:
    """A notebook as a function: keyword arguments are its parameters; returns the ``Run``."""

    def __init__(self, notebook: str | os.PathLike[str], **options: Any) -> None:
        from mlops_nb.notebook.io import read_notebook
        from mlops_nb.notebook.params import parse_notebook_params

        self.notebook = Path(notebook)
        self.options = options
        self.params = parse_notebook_params(read_notebook(self.notebook), source=str(self.notebook))
        self.__name__ = self.notebook.stem
        self.__doc__ = f"Run {self.notebook} with papermill and return the Run."
        self.__signature__ = inspect.Signature(
            [
                inspect.Parameter(
                    s.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=s.default if s.literal_default else None,
                    annotation=str(s.type),
                )
                for s in self.params.specs
            ]
        )

    def __call__(self, **params: Any) -> Run:
        result = run(self.notebook, params, **self.options)
        if not result.ok:
            raise RunFailed(
                f"{self.notebook}: run {result.id} {result.status}: {result.error_line()} "
                f"(output notebook: {result.output_notebook})"
            )
        return result

    def __repr__(self) -> str:
        return f"<notebook function {self.__name__}{self.__signature__}>"


def load(notebook: str | os.PathLike[str], **options: Any) -> NotebookFunction:
    """A notebook as a function: ``train = load("train.ipynb"); run = train(C=0.5)``.

    ``inspect.signature(train)`` lists the notebook's parameters. Calling it runs the notebook
    (``options`` are passed to ``run``: runs_dir, timeout, name...) and returns the ``Run``;
    a run that does not finish ``ok`` raises ``RunFailed``.
    """
    return NotebookFunction(notebook, **options)
