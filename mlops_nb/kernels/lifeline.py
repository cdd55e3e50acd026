"""A worker process dies with the process that drives it.

A sweep's pool workers are forked by its driver. If the driver is killed outright (SIGKILL, out
of memory), nothing tells them: they wait for work forever, holding memory and kernels. Linux's
parent-death signal (``prctl(PR_SET_PDEATHSIG)``, prctl(2)) is delivered when the parent dies;
``watch_parent`` asks for it, and the handler records the run in flight as ``lost`` with the
driver named as the cause (``driver_lost``), then the worker exits. Elsewhere, a thread polls
the parent pid instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_DEATH_SIGNAL = signal.SIGUSR2
POLL_S = 0.5
_driver: int | None = None  # the parent pid being watched, in a worker
_busy = False  # a run is in flight in this worker
_cleanup: Callable[[], None] | None = None  # stops the worker's kernels before it exits


def watch_parent(cleanup: Callable[[], None]) -> None:
    """In a freshly forked worker: when our parent (the driver) dies, raise ``KeyboardInterrupt``
    in the main thread if a run is in flight (it stops and is recorded ``lost``; see ``busy``),
    else run ``cleanup`` and exit. Call from the worker's main thread."""
    global _driver, _cleanup
    _driver, _cleanup = os.getppid(), cleanup
    signal.signal(PARENT_DEATH_SIGNAL, _on_parent_death)
    if not _set_pdeathsig(PARENT_DEATH_SIGNAL):
        threading.Thread(target=_poll_parent, name="mlops-nb-lifeline", daemon=True).start()
    if os.getppid() != _driver:  # died before we asked
        os.kill(os.getpid(), PARENT_DEATH_SIGNAL)


def _set_pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        # the process's own symbols (dlopen(NULL)), libc's among them: find_library("c") would
        # run `ldconfig -p` in every worker, as it starts
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _poll_parent() -> None:
    while _driver is not None and os.getppid() == _driver:
        time.sleep(POLL_S)
    os.kill(os.getpid(), PARENT_DEATH_SIGNAL)


def _on_parent_death(signum: int, frame: FrameType | None) -> None:
    # The signal also comes when the *thread* that forked us ends; only a changed parent counts.
    if driver_lost() is None:
        return
    if _busy:
        raise KeyboardInterrupt
    exit_if_orphaned(_cleanup or (lambda: None))


@contextlib.contextmanager
def busy() -> Iterator[None]:
    """Around a run in a worker: a driver dying now interrupts the run (recorded ``lost``)."""
    global _busy
    _busy = True
    try:
        yield
    finally:
        _busy = False


def driver_lost() -> str | None:
    """Why this worker's run cannot go on (its driver died), or None while the driver lives."""
    if _driver is None or os.getppid() == _driver:
        return None
    return (
        f"the sweep's driver process (pid {_driver}) died (killed or crashed) while this run "
        "was in flight; re-invoke the sweep to run it again"
    )


def exit_if_orphaned(cleanup: Callable[[], None]) -> None:
    """After recording the run in flight: a worker whose driver is gone runs ``cleanup`` (stop
    its warm kernels), stops its fork servers and exits (nobody will send it work again)."""
    if driver_lost() is None:
        return
    try:
        from mlops_nb.kernels import forking

        cleanup()
        forking.close_all()
    except Exception:
        log.debug("cleanup before exit failed", exc_info=True)
    finally:
        os._exit(1)
