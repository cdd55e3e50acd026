"""Drive a planned sweep: skip what is done, feed the executor, record, stop cleanly on signals.

The sweep record is rewritten (atomically) after every finished run, so an interrupted or killed
sweep leaves an accurate record and re-invoking it resumes.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import logging
import secrets
import time
from collections import deque
from pathlib import Path

from mlops_nb.errors import StoreError
from mlops_nb.interrupts import on_interrupt
from mlops_nb.store import index, liveness, locks, settle
from mlops_nb.store import runs as store
from mlops_nb.sweep import executors, reconcile, record
from mlops_nb.sweep.options import SweepOptions
from mlops_nb.sweep.plan import Plan
from mlops_nb.sweep.progress import Finished, Progress, choose
from mlops_nb.sweep.record import SweepEntry, SweepRecord
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


def execute(plan: Plan, opts: SweepOptions) -> SweepRecord:
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
        return _execute(plan, opts)


def _execute(plan: Plan, opts: SweepOptions) -> SweepRecord:
    book = _Book(plan.runs_dir, _start(plan, opts, record.load(plan.runs_dir, plan.sweep_id)))
    todo = _todo(book.entries)
    # Built before anything is recorded: a missing extra is a usage error.
    ex = _executor(opts, plan) if todo else None
    if ex is not None:
        book.head = dataclasses.replace(book.head, workers=ex.capacity)
    stopper = Stopper(
        record.record_path(plan.runs_dir, plan.sweep_id).with_suffix(
            f".{secrets.token_hex(4)}.stop"
        )
    )
    show = choose(opts.progress)
    t0 = time.monotonic()
    book.changed(force=True)
    show.start(len(book.entries), len(book.entries) - sum(len(g) for g in todo.values()))
    problem: StoreError | None = None
    try:
        with _signals(stopper, install=opts.handle_signals):
            if ex is not None:
                _Driver(plan, book, todo, stopper, show, ex).run(fail_fast=opts.fail_fast)
    except KeyboardInterrupt:
        stopper.request()
    except StoreError as e:  # the store filled up or became read-only: stop, say so once
        problem = e
    finally:
        show.close()
        stopper.clear()
        problem = _end(book, problem, stopper.requested, time.monotonic() - t0)
        if ex is not None:
            index.tidy(plan.runs_dir)  # the pool's workers are gone, their connections too
    if problem is not None:
        left = sum(1 for e in book.entries if e.status != "ok")
        raise StoreError(
            f"{problem.message} {left} set(s) not done; re-invoke the sweep to resume."
        )
    return book.record()


def _start(plan: Plan, opts: SweepOptions, previous: SweepRecord | None) -> SweepRecord:
    """The record of this invocation as it starts (``running``), resuming ``previous``."""
    from mlops_nb.notebook.io import code_sha256

    return SweepRecord(
        id=plan.sweep_id,
        notebook={
            "path": str(plan.notebook),
            "abspath": str(plan.notebook.resolve()),
            "code_sha256": code_sha256(plan.specs[0].nb),
        },
        status="running",
        owner=liveness.owner(),  # a reader tells a live sweep from one whose driver died
        created_at=(previous.created_at if previous else None) or store.utc_now(),
        started_at=store.utc_now(),
        invocations=(previous.invocations if previous else 0) + 1,
        executor=opts.executor,
        workers=opts.workers,
        options=record.Options(
            timeout_s=plan.specs[0].timeout,
            retries=opts.retries,
            force=opts.force,
            fail_fast=opts.fail_fast,
            preload=plan.preload,
            prewarm=opts.prewarm,
            fork=opts.fork and opts.prewarm,
        ),
        source=plan.source,
        runs=tuple(_entries(plan, {} if opts.force else own_ok_runs(plan), previous)),
    )


def own_ok_runs(plan: Plan) -> dict[str, Path]:
    """``{key: folder of the latest ok run of this sweep with that key}``, from the runs index.

    Only the sweep's own runs count as done: those recorded with its ``sweep_id`` (every run the
    sweep record names in ``attempts`` carries it). A run with the same key made elsewhere
    (``mlops-nb run``, another sweep) does not: ``collect --sweep ID`` lists a sweep's runs by
    their ``sweep_id``, so a set "done" by an outside run would be missing there.
    """
    if not plan.runs_dir.is_dir():
        return {}
    rows = index.query_rows(
        plan.runs_dir, "status = 'ok' AND key IS NOT NULL AND sweep_id = ?", (plan.sweep_id,)
    )
    # in id order: the latest run of a key wins
    return {str(r["key"]): plan.runs_dir / str(r["id"]) for r in rows}


def _entries(plan: Plan, done: dict[str, Path], previous: SweepRecord | None) -> list[SweepEntry]:
    # Attempts of earlier invocations (an interrupted run, a failure before the resume) are kept.
    earlier: dict[str, list[str]] = {}
    for old in previous.runs if previous else ():
        earlier.setdefault(old.key, []).extend(old.attempts)
    entries = []
    for i, (values, (key, _)) in enumerate(zip(plan.sets, plan.keys, strict=True)):
        entry = SweepEntry(
            index=i, params=values, key=key, attempts=tuple(dict.fromkeys(earlier.get(key, [])))
        )
        if key in done and store.ran_clean(done[key]):
            rec = store.read_record(done[key])
            entry = dataclasses.replace(
                entry,
                status="ok",
                run_id=rec["id"],
                # a run the record had no time to name before its driver died is named now
                attempts=tuple(dict.fromkeys((*entry.attempts, rec["id"]))),
                resumed=True,
                duration_s=rec.get("duration_s"),
            )
        entries.append(entry)
    return entries


def _executor(opts: SweepOptions, plan: Plan) -> executors.Executor:
    ex = executors.make(opts.executor, workers=opts.workers, scheduler=opts.scheduler)
    if opts.executor == "local":
        executors.warm_for_workers(plan.specs[0].nb)
    return ex


def _end(
    book: _Book, problem: StoreError | None, stopped: bool, duration: float
) -> StoreError | None:
    """Write the final record; the store problem that stopped the sweep, if any."""
    problem = problem or _store_problem(book.entries)
    book.head = dataclasses.replace(
        book.head,
        status=_status(book.entries, interrupted=stopped and problem is None),
        ended_at=store.utc_now(),
        duration_s=round(duration, 3),
    )
    try:
        book.changed(force=True)
    except StoreError as e:
        problem = problem or e
    return problem


def _store_problem(entries: list[SweepEntry]) -> StoreError | None:
    """A run that could not be recorded because of the store (full, read-only)."""
    for e in entries:
        error = e.error or ""
        if e.status != "ok" and error.startswith("StoreError: "):
            return StoreError(error.removeprefix("StoreError: ").split(" in cell ")[0])
    return None


class _Book:
    """The sweep being driven: its record (``head``, without its sets) and its sets, as they
    change. Writes the record at most every SAVE_EVERY_S (it holds every set, so rewriting it
    after each of thousands of runs would be quadratic), and always when forced. What is not
    written yet is not lost: resuming finds finished runs by their key in the runs index."""

    def __init__(self, runs_dir: Path, head: SweepRecord) -> None:
        self.runs_dir, self.head = runs_dir, head
        self.entries = list(head.runs)
        self.last = -SAVE_EVERY_S
        self.dirty = False

    def record(self) -> SweepRecord:
        return dataclasses.replace(self.head, runs=tuple(self.entries))

    def changed(self, *, force: bool = False) -> None:
        self.dirty = True
        self.flush(force=force)

    def flush(self, *, force: bool = False) -> None:
        """Write what changed if forced or if the last write is old enough."""
        now = time.monotonic()
        if not self.dirty or (not force and now - self.last < SAVE_EVERY_S):
            return
        record.write(self.runs_dir, self.record())
        self.last, self.dirty = now, False


def _todo(entries: list[SweepEntry]) -> dict[int, list[int]]:
    """First index of each distinct pending key → every entry index sharing that key."""
    groups: dict[str, list[int]] = {}
    for e in entries:
        if e.status != "ok":
            groups.setdefault(e.key, []).append(e.index)
    return {ids[0]: ids for ids in groups.values()}


def _status(entries: list[SweepEntry], *, interrupted: bool) -> str:
    if interrupted:
        return "interrupted"
    return "ok" if all(e.status == "ok" for e in entries) else "failed"


class _Driver:
    """Feeds the executor at most ``capacity`` tasks at a time and books their outcomes."""

    def __init__(
        self,
        plan: Plan,
        book: _Book,
        todo: dict[int, list[int]],
        stopper: Stopper,
        show: Progress,
        ex: executors.Executor,
    ) -> None:
        self.plan, self.book, self.todo = plan, book, todo
        self.stopper, self.show, self.ex = stopper, show, ex
        self.pending = deque(todo)
        self.inflight: dict[cf.Future[Outcome], int] = {}
        self.failed = False

    def run(self, *, fail_fast: bool) -> None:
        stopped_at: float | None = None
        try:
            while self.pending or self.inflight:
                if not self.stopper.requested and not (fail_fast and self.failed):
                    self._launch()
                if not self.inflight:
                    break
                if self.stopper.requested and stopped_at is None:
                    stopped_at = time.monotonic()
                if stopped_at is not None and time.monotonic() - stopped_at > STOP_WAIT_S:
                    log.warning(
                        "runs still in flight %.0f s after the stop; giving up", STOP_WAIT_S
                    )
                    break
                done, _ = cf.wait(list(self.inflight), timeout=0.2, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    self._collect(fut)
                self.book.flush()
        finally:
            if self.stopper.requested or self.inflight:
                self.stopper.request()  # workers still busy (e.g. give-up above) stop their kernels
            self.ex.close(cancel=True)

    def _task(self, i: int) -> Task:
        opts = self.book.head.options
        return Task(
            index=i,
            spec=self.plan.specs[i],
            key=self.plan.keys[i],
            retries=opts.retries,
            preload=self.plan.preload,
            prewarm=opts.prewarm,
            fork=opts.fork,
            stop_file=str(self.stopper.stop_file),
            warm_ahead=bool(self.pending),  # none left to hand out after this one
        )

    def _launch(self) -> None:
        while self.pending and len(self.inflight) < self.ex.capacity:
            i = self.pending.popleft()
            task = self._task(i)
            if self.ex.name == "serial":
                self.book.flush(force=True)  # submit returns when the run is over
            try:
                self.inflight[self.ex.submit(task)] = i
            except cf.BrokenExecutor as broken:
                # a worker died and took the pool down: what did not run stays pending in the
                # sweep record, so re-invoking the sweep resumes it
                log.warning("the worker pool broke (%s); stopping the sweep", broken)
                self.pending.appendleft(i)
                self.stopper.request()
                return
            self.show.started(len(self.inflight))

    def _collect(self, fut: cf.Future[Outcome]) -> None:
        i = self.inflight.pop(fut)
        outcome = _outcome(fut, i)
        entries = self.book.entries
        for j in self.todo[i]:
            entries[j] = _applied(entries[j], outcome)
        if outcome.status != NOT_RUN:
            e = entries[i]
            self.show.finished(Finished(e.status, e.run_id, e.params, e.duration_s, e.error))
        self.failed = self.failed or outcome.status not in ("ok", NOT_RUN, "interrupted")
        if (outcome.error or {}).get("ename") == "StoreError":
            self.stopper.request()  # every further run would fail the same way
        self.show.started(len(self.inflight))
        self.book.changed()


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


def _applied(entry: SweepEntry, outcome: Outcome) -> SweepEntry:
    """``entry`` after the run of ``outcome`` (unchanged if the task did not run)."""
    if outcome.status == NOT_RUN:
        return entry
    return dataclasses.replace(
        entry,
        status=outcome.status,
        run_id=outcome.run_id,
        attempts=entry.attempts + tuple(outcome.run_ids),
        duration_s=outcome.duration_s,
        resumed=False,
        error=reconcile.entry_error(outcome.error),
    )
