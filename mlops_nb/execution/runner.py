"""One run, start to end: validate → record ``running`` → execute → harvest → record.

Nothing is lost: the record says ``running`` before the kernel starts, and in every outcome
(success, cell exception, kernel death, timeout, Ctrl-C, SIGTERM) the output notebook and the final
record are written atomically and the kernel process is gone afterwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb import __version__
from mlops_nb.execution import ending, outputs, provenance
from mlops_nb.git import git_info
from mlops_nb.interrupts import on_interrupt
from mlops_nb.notebook.io import code_sha256, read_notebook
from mlops_nb.notebook.params import inject, parse_notebook_params, validate
from mlops_nb.results.scraps import scalar_scraps
from mlops_nb.store import liveness
from mlops_nb.store import runs as store
from mlops_nb.store.record import RunRecord, reserved_keys

log = logging.getLogger(__name__)
OUTPUT_DIR_PARAM = "output_dir"


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines one run, validated and ready to execute."""

    notebook: Path
    nb: dict[str, Any]
    params: dict[str, Any]  # defaults merged with the given values
    given: dict[str, Any]  # the values given by the caller
    runs_dir: Path
    name: str | None = None
    timeout: float | None = None
    cwd: Path | None = None
    kernel_name: str | None = None
    sweep_id: str | None = None
    pipeline: dict[str, Any] | None = None
    declares_output_dir: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    log_output: bool = False  # stream cell output to this process's stdout/stderr
    allow_errors: bool = False  # run past failing cells (still 'failed'; every error recorded)


def prepare(
    notebook: str | os.PathLike[str],
    params: Mapping[str, Any] | None = None,
    *,
    runs_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
    timeout: float | None = None,
    cwd: str | os.PathLike[str] | None = None,
    kernel_name: str | None = None,
    sweep_id: str | None = None,
    pipeline: Mapping[str, Any] | None = None,
    nb: dict[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    log_output: bool = False,
    allow_errors: bool = False,
) -> RunSpec:
    """Read the notebook and validate parameters: every user error surfaces here, before a kernel."""
    path = Path(notebook)
    nb = nb if nb is not None else read_notebook(path)
    declared = parse_notebook_params(nb, source=str(path))
    given = dict(params or {})
    merged = validate(declared, given, source=str(path))
    from mlops_nb.registry.refs import resolve_params

    # registry:MODEL@ALIAS values become run folders now, before a kernel (lineage: `registry`)
    merged, models = resolve_params(merged, store.resolve_runs_dir(runs_dir), source=str(path))
    if models:
        extra = {**(extra or {}), "registry": models}
    _check_options(extra or {}, timeout, cwd)
    from mlops_nb.store.lookup import check_name

    check_name(name)  # a name that `show NAME` could not mean is refused before a kernel
    from mlops_nb.kernels.kernelspec import resolve_kernel_name

    kernel_name = resolve_kernel_name(nb, kernel_name, source=str(path))
    return RunSpec(
        notebook=path,
        nb=nb,
        params=merged,
        given=given,
        runs_dir=store.resolve_runs_dir(runs_dir),
        name=name,
        timeout=timeout,
        cwd=Path(cwd) if cwd is not None else None,
        kernel_name=kernel_name,
        sweep_id=sweep_id,
        pipeline=dict(pipeline) if pipeline else None,
        declares_output_dir=declared.get(OUTPUT_DIR_PARAM) is not None,
        extra=dict(extra or {}),
        log_output=log_output,
        allow_errors=allow_errors,
    )


def _check_options(
    extra: Mapping[str, Any], timeout: float | None, cwd: str | os.PathLike[str] | None
) -> None:
    """The run's options, each a ``UsageError`` before anything starts."""
    from mlops_nb.errors import UsageError
    from mlops_nb.execution.stream_cap import output_limit

    clash = reserved_keys(extra)
    if clash:  # an extension never overwrites what the run itself records
        raise UsageError(
            f"extra record fields {clash} are core run-record fields and cannot be set; "
            "choose other names (core fields: mlops_nb.store.record.CORE_KEYS)."
        )
    output_limit()  # a bad MLOPS_NB_OUTPUT_LIMIT is a usage error before anything starts
    if timeout is not None and not (isinstance(timeout, (int, float)) and 0 < timeout < math.inf):
        raise UsageError(
            f"--timeout must be a finite number of seconds > 0, got {timeout!r} "
            "(leave it out for no limit)."
        )
    if cwd is not None and not Path(cwd).is_dir():
        raise UsageError(f"--cwd {cwd}: no such folder (the kernel's working directory).")


def work_dir(spec: RunSpec) -> Path:
    return (spec.cwd or spec.notebook.parent or Path(".")).resolve()


def key_of(spec: RunSpec) -> tuple[str, dict[str, Any]]:
    """The run key and the input-file hashes it covers."""
    skip = frozenset({OUTPUT_DIR_PARAM}) if spec.declares_output_dir else frozenset()
    inputs = provenance.input_hashes(
        spec.params,
        base_dirs=[work_dir(spec), Path.cwd()],
        skip=skip | {"upstream"},
        exclude=frozenset({spec.runs_dir.resolve()}),
    )
    keyed = {k: v for k, v in spec.params.items() if k not in skip}
    chosen = outputs.explicit_output_dir(spec.given, work_dir(spec)) if skip else None
    if chosen is not None:  # artifacts in a folder of the caller's choice: work done elsewhere
        keyed[OUTPUT_DIR_PARAM] = chosen  # did not put them there (--reuse, sweeps resuming)
    return provenance.run_key(code_sha256(spec.nb), keyed, inputs), inputs


def execute_run(
    spec: RunSpec,
    *,
    handle_signals: bool = True,
    kernel_manager_factory: Callable[[Any], Any] | None = None,
    key: tuple[str, dict[str, Any]] | None = None,
    cancel: threading.Event | None = None,
    on_begin: Callable[[Path], None] | None = None,
) -> Path:
    """Execute a prepared run; returns its folder. Never raises for notebook failures.

    ``cancel`` lets a caller that owns the signals (a pipeline, a sweep) stop the run from another
    thread: the run is then recorded ``interrupted``. ``on_begin(folder)`` is called once the
    run's folder holds its ``running`` record (a caller unwound by KeyboardInterrupt still knows
    the run it started).
    """
    from mlops_nb.execution.papermill_adapter import Execution

    folder, record = _begin(spec, key or key_of(spec))
    if on_begin is not None:
        on_begin(folder)
    run_id, params = record.id, dict(record.params)
    execution = Execution(kernel_manager_factory=kernel_manager_factory)
    prov: dict[str, Any] = {}
    prov_thread = threading.Thread(target=_provenance, args=(spec, prov), daemon=True)
    prov_thread.start()
    outcome: dict[str, Any] = {}
    injected = inject(spec.nb, params)
    t0 = time.monotonic()
    worker = threading.Thread(
        target=_execute_in_thread,
        args=(injected, spec, folder, execution, outcome),
        name=f"mlops-nb-run-{run_id}",
        daemon=True,
    )
    signals = contextlib.ExitStack()
    signals.enter_context(on_interrupt(_interrupt_handler(execution), install=handle_signals))
    try:
        worker.start()
        # its end is learnt from `done`: a Thread.join interrupted by a raising signal handler (a
        # sweep worker's SIGTERM) marks a running thread ended (CPython gh-90882, Python <= 3.12)
        _watch(execution.done, execution, spec.timeout, t0, cancel)
    except BaseException:
        # A second Ctrl-C, or anything else in this thread: stop the kernel, still record.
        execution.watch.stop("interrupted", grace=0.5)
        execution.done.wait(5)
        raise
    finally:
        signals.close()
        execution.watch.finish()
        prov_thread.join(30)
        if not execution.done.is_set():  # gave up waiting: papermill may still change its notebook
            log.warning("run %s: execution thread still busy; recording the input notebook", run_id)
            outcome, execution.nb = {"exception": RuntimeError("execution did not stop")}, None
        _finish(spec, folder, record, execution, outcome, injected, prov, time.monotonic() - t0)
    return folder


def _begin(spec: RunSpec, key: tuple[str, dict[str, Any]]) -> tuple[Path, RunRecord]:
    """The run's folder, with its record saying ``running`` (the record returned)."""
    run_key, inputs = key
    run_id = store.new_run_id(spec.name)
    folder = store.create_run_folder(spec.runs_dir, run_id)
    params = dict(spec.params)
    if spec.declares_output_dir and OUTPUT_DIR_PARAM not in spec.given:
        params[OUTPUT_DIR_PARAM] = str(folder.resolve())
    record = _initial_record(spec, run_id, params, run_key, inputs)
    if spec.declares_output_dir and OUTPUT_DIR_PARAM in spec.given:  # artifacts land there
        out_dir = outputs.explicit_output_dir(spec.given, work_dir(spec))
        record = record.with_extensions(**{OUTPUT_DIR_PARAM: out_dir})
    try:
        store.write_record(folder, record.to_json())
    except BaseException:  # a full or read-only store: no empty run folder is left behind
        store.discard_run_folder(folder)
        raise
    return folder, record


def _initial_record(
    spec: RunSpec, run_id: str, params: dict[str, Any], key: str, inputs: dict[str, Any]
) -> RunRecord:
    return RunRecord(
        id=run_id,
        name=spec.name,
        notebook={
            "path": str(spec.notebook),
            "abspath": str(spec.notebook.resolve()),
            "code_sha256": code_sha256(spec.nb),
        },
        params=params,
        status="running",
        started_at=store.utc_now(),
        inputs=inputs,
        # time spent hashing input folders (before the kernel started: not in duration_s)
        inputs_hash_s=round(sum(v.get("seconds") or 0 for v in inputs.values()), 3),
        key=key,
        sweep_id=spec.sweep_id,
        pipeline=spec.pipeline,
        timeout_s=spec.timeout,
        kernel=spec.kernel_name,
        owner=liveness.owner(),  # host, pid ...: a reader tells a live run from a lost one
        mlops_nb_version=__version__,
        extensions=spec.extra,
    )


def _provenance(spec: RunSpec, out: dict[str, Any]) -> None:
    try:
        out["git"] = git_info(spec.notebook.resolve().parent, store=spec.runs_dir)
        out["environment"], out["packages"] = provenance.environment()
    except Exception:  # provenance must never fail a run
        log.exception("collecting provenance failed")


def _execute_in_thread(
    injected: dict[str, Any], spec: RunSpec, folder: Path, execution: Any, outcome: dict[str, Any]
) -> None:
    import asyncio

    from mlops_nb.execution.papermill_adapter import execute

    try:
        outcome["nb"] = execute(
            injected,
            input_path=spec.notebook,
            partial_output=folder / store.PARTIAL_OUTPUT,
            execution=execution,
            cwd=work_dir(spec),
            kernel_name=spec.kernel_name,
            log_output=spec.log_output,
            allow_errors=spec.allow_errors,
        )
    except BaseException as e:  # recorded as the run's error
        outcome["exception"] = e
        outcome["traceback"] = traceback.format_exception(e)
    finally:
        try:  # jupyter_core's run_sync made an event loop for this thread; close it with the thread
            with contextlib.suppress(RuntimeError):
                loop = asyncio.get_event_loop_policy().get_event_loop()
                asyncio.set_event_loop(None)
                loop.close()
        finally:
            execution.done.set()


def _watch(
    done: threading.Event,
    execution: Any,
    timeout: float | None,
    t0: float,
    cancel: threading.Event | None = None,
) -> None:
    sample_every, last = 0.5, 0.0
    while not done.wait(0.05):
        now = time.monotonic()
        if cancel is not None and cancel.is_set():
            execution.watch.stop("interrupted")
        if timeout is not None and now - t0 > timeout:
            execution.watch.stop("timeout")
        if now - last > sample_every:
            execution.watch.sample()
            last = now


def _interrupt_handler(execution: Any) -> Callable[[], None]:
    def handler() -> None:
        if not execution.watch.stop("interrupted"):
            # Asked twice: stop waiting for the grace period.
            execution.watch.kill()

    return handler


def _finish(
    spec: RunSpec,
    folder: Path,
    record: RunRecord,
    execution: Any,
    outcome: dict[str, Any],
    injected: dict[str, Any],
    prov: dict[str, Any],
    duration: float,
) -> None:
    from mlops_nb.notebook.io import atomic_write_text

    nb_dict, problem = ending.write_output(folder, outcome.get("nb") or execution.nb, injected)
    status, error = ending.status_of(spec.timeout, nb_dict, execution, outcome)
    if problem is not None and status == "ok":
        status, error = "failed", {"ename": "StoreError", "evalue": problem.message}
    record = dataclasses.replace(
        record,
        status=status,
        error=error,
        ended_at=store.utc_now(),
        duration_s=round(duration, 3),
        scraps=scalar_scraps(nb_dict),
        resources=execution.watch.resources(),
        git=prov.get("git"),
        environment=prov.get("environment"),
    )
    if "packages" in prov:
        try:
            atomic_write_text(folder / store.ENVIRONMENT, json.dumps(prov["packages"], indent=1))
        except OSError as e:
            log.warning("environment.json not written in %s: %s", folder, e.strerror or e)
    execution.finished = True  # an execution thread still busy saves no partial notebook
    with contextlib.suppress(OSError):  # frees its space before the record is written
        (folder / store.PARTIAL_OUTPUT).unlink()
    if spec.allow_errors:
        from mlops_nb.execution.cell_errors import all_errors

        record = record.with_extensions(errors=all_errors(nb_dict))
    artifacts = provenance.artifacts(folder)
    artifacts.update(outputs.output_artifacts(record.to_json(), spec.runs_dir))
    record = dataclasses.replace(record, artifacts=artifacts)
    if execution.output_cuts:  # stream output past MLOPS_NB_OUTPUT_LIMIT (execution.client)
        record = record.with_extensions(output_cut=execution.output_cuts)
    final = record.to_json()
    ending.write_final(folder, final)
    _publish(folder, final)
    if problem is not None:
        raise problem


def _publish(folder: Path, final: dict[str, Any]) -> None:
    """Index the finished run and send it to the configured trackers; neither fails a run."""
    try:  # the folder is the truth, `reindex` rebuilds the index
        from mlops_nb.store import index

        index.update_run(folder, final)
    except Exception as e:
        log.warning("runs index not updated (%s); `mlops-nb reindex` rebuilds it", e)
    try:  # [tool.mlops-nb.track], --track: a tracking failure warns
        from mlops_nb.tracking.track import after_run

        after_run(folder, final)
    except Exception:
        log.warning("tracking the run failed", exc_info=True)
