"""Drive a planned sweep: skip what is done, feed the executor, record, stop cleanly on signals.

The sweep record is rewritten (atomically) after every finished run, so an interrupted or killed
sweep leaves an accurate record and re-invoking it resumes.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_nb.errors import StoreError
from mlops_nb.interrupts import on_interrupt
from mlops_nb.store import index, liveness, locks, settle
from mlops_nb.store import runs as store
from mlops_nb.sweep import executors, record
from mlops_nb.sweep.plan import Plan
from mlops_nb.sweep.progress import Progress, choose
from mlops_nb.sweep.worker import NOT_RUN, Outcome, Task

log = logging.getLogger(__name__)
STOP_WAIT_S = 30.0  # after a stop, how long runs in flight get to record themselves
SAVE_EVERY_S = 1.0  # the sweep record is rewritten at most this often while runs finish


class Stopper:
    """Set by Ctrl-C/SIGTERM: stop launching; workers see the stop file and interrupt runs."""

    def __init__(self, stop_file: Path) -> None:
        self.stop_file = stop_file
        self.requested = False
        self.count = 0

    def request(self) -> None:
        self.count += 1
        if not self.requested:
            self.requested = True
            with contextlib.suppress(OSError):
                self.stop_file.parent.mkdir(parents=True, exist_ok=True)
                self.stop_file.touch()

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            self.stop_file.unlink()


def _signals(stopper: Stopper, *, install: bool) -> contextlib.AbstractContextManager[None]:
    def handler() -> None:
        stopper.request()
        if stopper.count > 2:  # asked three times: stop waiting for the runs in flight
            raise KeyboardInterrupt

    return on_interrupt(handler, install=install)


def _done_runs(plan: Plan, force: bool) -> dict[str, Path]:
    if force:
        return {}
    return index.ok_runs_by_key(plan.runs_dir)


def _entries(
    plan: Plan, done: dict[str, Path], previous: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    # Attempts of earlier invocations (an interrupted run, a failure before the resume) are kept.
    earlier: dict[str, list[str]] = {}
    for old in (previous or {}).get("runs") or []:
        if isinstance(old, dict) and isinstance(old.get("attempts"), list):
            earlier.setdefault(str(old.get("key")), []).extend(
                a for a in old["attempts"] if isinstance(a, str)
            )
    entries = []
    for i, (values, (key, _)) in enumerate(zip(plan.sets, plan.keys, strict=True)):
        entry: dict[str, Any] = {
            "index": i,
            "params": values,
            "key": key,
            "status": "pending",
            "run_id": None,
            "attempts": list(dict.fromkeys(earlier.get(key, []))),
            "error": None,
            "resumed": False,
        }
        if key in done and store.ran_clean(done[key]):
            rec = store.read_record(done[key])
            entry.update(
                status="ok", run_id=rec["id"], resumed=True, duration_s=rec.get("duration_s")
            )
        entries.append(entry)
    return entries


def execute(
    plan: Plan,
    *,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    retries: int,
    force: bool,
    fail_fast: bool,
    prewarm: bool,
    fork: bool = True,
    progress: str | Progress,
    handle_signals: bool,
) -> dict[str, Any]:
    """Run the plan; returns the final sweep record (also written to runs/sweeps/<id>.json).

    One invocation of a sweep at a time: a second one started while the first runs refuses with
    a ``StoreError`` naming the first (a lock the kernel releases however the first ends).
    """
    busy = (
        f"this sweep ({plan.sweep_id}) is already running in {plan.runs_dir} (pid {{pid}}); "
        "wait for it to finish, then re-invoke it to resume what is left."
    )
    with locks.exclusive(record.lock_path(plan.runs_dir, plan.sweep_id), busy=busy):
        settle.settle_all(plan.runs_dir)  # runs whose driver died: written down as lost
        return _execute(
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


def _execute(
    plan: Plan,
    *,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    retries: int,
    force: bool,
    fail_fast: bool,
    prewarm: bool,
    fork: bool,
    progress: str | Progress,
    handle_signals: bool,
) -> dict[str, Any]:
    previous = record.read(plan.runs_dir, plan.sweep_id) or {}
    entries = _entries(plan, _done_runs(plan, force), previous)
    data: dict[str, Any] = {
        "id": plan.sweep_id,
        "notebook": {
            "path": str(plan.notebook),
            "abspath": str(plan.notebook.resolve()),
            "code_sha256": _code_sha(plan),
        },
        "status": "running",
        **liveness.owner(),  # a reader tells a live sweep from one whose driver died
        "created_at": previous.get("created_at") or store.utc_now(),
        "started_at": store.utc_now(),
        "ended_at": None,
        "duration_s": None,
        "invocations": int(previous.get("invocations") or 0) + 1,
        "executor": executor,
        "workers": workers,
        "options": {
            "timeout_s": plan.specs[0].timeout,
            "retries": retries,
            "force": force,
            "fail_fast": fail_fast,
            "preload": list(plan.preload),
            "prewarm": prewarm,
            "fork": fork and prewarm,
        },
        "source": plan.source,
        "counts": {},
        "runs": entries,
    }
    stop_file = record.record_path(plan.runs_dir, plan.sweep_id).with_suffix(
        f".{secrets.token_hex(4)}.stop"
    )
    stopper = Stopper(stop_file)
    show = choose(progress)
    todo = _todo(entries)
    # Built before anything is recorded: an unknown executor or missing extra is a usage error.
    ex = executors.make(executor, workers=workers, scheduler=scheduler) if todo else None
    if ex is not None and executor == "local":
        # Done once here, not in every pool worker forked from this process.
        import mlops_nb.execution.papermill_adapter  # noqa: F401
        from mlops_nb.execution.provenance import installed_packages

        installed_packages()
    t0 = time.monotonic()
    save = _Saver(plan, data)
    save(force=True)
    show.start(len(entries), len(entries) - sum(len(g) for g in todo.values()))
    problem: StoreError | None = None
    try:
        with _signals(stopper, install=handle_signals):
            if ex is not None:
                _run_all(plan, data, todo, stopper, show, save, ex, fail_fast=fail_fast)
    except KeyboardInterrupt:
        stopper.request()
    except StoreError as e:  # the store filled up or became read-only: stop, say so once
        problem = e
    finally:
        show.close()
        stopper.clear()
        data["counts"] = record.counts(entries)
        problem = problem or _store_problem(entries)
        data["status"] = _status(entries, interrupted=stopper.requested and problem is None)
        data["ended_at"] = store.utc_now()
        data["duration_s"] = round(time.monotonic() - t0, 3)
        try:
            save(force=True)
        except StoreError as e:
            problem = problem or e
    if problem is not None:
        left = sum(1 for e in entries if e["status"] != "ok")
        raise StoreError(
            f"{problem.message} {left} set(s) not done; re-invoke the sweep to resume."
        )
    return data


def _store_problem(entries: list[dict[str, Any]]) -> StoreError | None:
    """A run that could not be recorded because of the store (full, read-only)."""
    for e in entries:
        if e["status"] != "ok" and str(e.get("error") or "").startswith("StoreError: "):
            return StoreError(str(e["error"]).removeprefix("StoreError: ").split(" in cell ")[0])
    return None


def _code_sha(plan: Plan) -> str:
    from mlops_nb.notebook.io import code_sha256

    return code_sha256(plan.specs[0].nb)


class _Saver:
    """Writes the sweep record at most every SAVE_EVERY_S (it holds every set, so rewriting it
    after each of thousands of runs would be quadratic), and always when forced. What is not
    written yet is not lost: resuming finds finished runs by their key in the runs index."""

    def __init__(self, plan: Plan, data: dict[str, Any]) -> None:
        self.plan, self.data = plan, data
        self.last = -SAVE_EVERY_S
        self.dirty = False

    def __call__(self, *, force: bool = False) -> None:
        self.dirty = True
        self.flush(force=force)

    def flush(self, *, force: bool = False) -> None:
        """Write what changed if forced or if the last write is old enough."""
        now = time.monotonic()
        if not self.dirty or (not force and now - self.last < SAVE_EVERY_S):
            return
        self.data["counts"] = record.counts(self.data["runs"])
        record.write(self.plan.runs_dir, self.data)
        self.last, self.dirty = now, False


def _todo(entries: list[dict[str, Any]]) -> dict[int, list[int]]:
    """First index of each distinct pending key → every entry index sharing that key."""
    groups: dict[str, list[int]] = {}
    for e in entries:
        if e["status"] != "ok":
            groups.setdefault(e["key"], []).append(e["index"])
    return {ids[0]: ids for ids in groups.values()}


def _status(entries: list[dict[str, Any]], *, interrupted: bool) -> str:
    if interrupted:
        return "interrupted"
    return "ok" if all(e["status"] == "ok" for e in entries) else "failed"


def _task(plan: Plan, i: int, *, retries: int, prewarm: bool, fork: bool, stop_file: Path) -> Task:
    return Task(
        index=i,
        spec=plan.specs[i],
        key=plan.keys[i],
        retries=retries,
        preload=plan.preload,
        prewarm=prewarm,
        fork=fork,
        stop_file=str(stop_file),
    )


def _run_all(
    plan: Plan,
    data: dict[str, Any],
    todo: dict[int, list[int]],
    stopper: Stopper,
    show: Progress,
    save: _Saver,
    ex: executors.Executor,
    *,
    fail_fast: bool,
) -> None:
    entries = data["runs"]
    opts = data["options"]
    data["workers"] = ex.capacity
    pending = deque(todo)
    inflight: dict[cf.Future[Outcome], int] = {}
    failed = False
    stopped_at: float | None = None
    try:
        while pending or inflight:
            launching = not stopper.requested and not (fail_fast and failed)
            while launching and pending and len(inflight) < ex.capacity:
                i = pending.popleft()
                task = _task(
                    plan,
                    i,
                    retries=opts["retries"],
                    prewarm=opts["prewarm"],
                    fork=opts["fork"],
                    stop_file=stopper.stop_file,
                )
                if ex.name == "serial":
                    save.flush(force=True)  # submit returns when the run is over
                try:
                    inflight[ex.submit(task)] = i
                except cf.BrokenExecutor as broken:
                    # a worker died and took the pool down: what did not run stays pending in
                    # the sweep record, so re-invoking the sweep resumes it
                    log.warning("the worker pool broke (%s); stopping the sweep", broken)
                    pending.appendleft(i)
                    stopper.request()
                    break
                show.started(len(inflight))
            if not inflight:
                break
            if stopper.requested and stopped_at is None:
                stopped_at = time.monotonic()
            if stopped_at is not None and time.monotonic() - stopped_at > STOP_WAIT_S:
                log.warning("runs still in flight %.0f s after the stop; giving up", STOP_WAIT_S)
                break
            done, _ = cf.wait(list(inflight), timeout=0.2, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                i = inflight.pop(fut)
                outcome = _outcome(fut, i)
                for j in todo[i]:
                    _apply(entries[j], outcome)
                if outcome.status != NOT_RUN:
                    e = entries[i]
                    show.finished(
                        outcome.status, outcome.run_id, e["params"], outcome.duration_s, e["error"]
                    )
                failed = failed or outcome.status not in ("ok", NOT_RUN, "interrupted")
                if (outcome.error or {}).get("ename") == "StoreError":
                    stopper.request()  # every further run would fail the same way
                show.started(len(inflight))
                save()
            save.flush()
    finally:
        stopped = stopper.requested or bool(inflight)
        if stopped:
            stopper.request()  # workers still busy (e.g. give-up above) stop their kernels
        ex.close(cancel=True)


def _outcome(fut: cf.Future[Outcome], index: int) -> Outcome:
    try:
        return fut.result()
    except BaseException as e:  # the worker process died, or the executor broke
        log.warning("sweep set %s: worker failed: %s", index, e)
        err = {
            "ename": type(e).__name__,
            "evalue": str(e) or "the worker process died",
            "cell_index": None,
        }
        return Outcome(index, "failed", error=err)


def _apply(entry: dict[str, Any], outcome: Outcome) -> None:
    if outcome.status == NOT_RUN:
        return
    entry["status"] = outcome.status
    entry["run_id"] = outcome.run_id
    entry["attempts"] = list(entry.get("attempts") or []) + list(outcome.run_ids)
    entry["duration_s"] = outcome.duration_s
    entry["resumed"] = False
    e = outcome.error
    if e:
        cell = e.get("cell_index")
        where = f" in cell {cell + 1}" if isinstance(cell, int) else ""
        entry["error"] = f"{e.get('ename')}: {e.get('evalue')}{where}"
    else:
        entry["error"] = None
