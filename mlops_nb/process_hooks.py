"""Every fork and exit hook of the package, in one place, installed by whoever needs them.

Importing any module of mlops_nb registers no ``os.register_at_fork``, ``atexit`` or
multiprocessing-finalizer callback (``tests/test_process_hooks.py`` checks), so a program
that imports us gets no surprise code run when it forks or exits. ``install()`` registers them,
once per process; it is called by the CLI (``main.main``), the public functions that start
kernels (``mlops_nb.run``, ``mlops_nb.sweep``), the sweep worker (``sweep.worker.run_task``, in
every pool or dask worker) and the kernel machinery before it holds anything to clean up
(``kernels.forking.acquire``, ``kernels.prewarm.Prewarmer``).

The hooks are named below by module and attribute and looked up when they run: a module that is
not imported yet holds no state to fix, and this module imports nothing of the package, so any
layer may call ``install`` (the lookup by name is also why a hook here is not an upward import).

- Around ``os.fork()`` (``FORK_LOCKS``): a lock held across the fork, so that no other thread
  is inside what it guards in the child (the runs index: SQLite's own mutexes would be copied
  locked; ``store/index.py`` says why).
- In a forked child (``AFTER_FORK_IN_CHILD``): forget what belongs to the parent: its fork-server
  connections, its pre-warmed kernels, its sweep worker states.
- When the process ends (``AT_EXIT``, in this order): kill the kernels warming ahead, then stop
  the fork servers this process started (their kernels go with them). Through ``atexit``, and
  through a multiprocessing finalizer in a pool worker, which leaves by ``os._exit`` where
  ``atexit`` does not run (``multiprocessing.process.BaseProcess._bootstrap``).
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from typing import Any

log = logging.getLogger(__name__)

FORK_LOCKS = (("mlops_nb.store.index", "_FORK_GUARD"),)
AFTER_FORK_IN_CHILD = (
    ("mlops_nb.kernels.forking", "forget_parent_servers"),
    ("mlops_nb.kernels.prewarm", "forget_parent_prewarmers"),
    ("mlops_nb.sweep.worker", "_forget_parent_states"),
)
AT_EXIT = (
    ("mlops_nb.kernels.prewarm", "close_all"),
    ("mlops_nb.kernels.forking", "close_all"),
)

_LOCK = threading.Lock()
_fork_hooks = False  # os.register_at_fork hooks are inherited by a forked child, and so is this
_atexit_hook = False  # so is an atexit callback
_finalizer_pid: int | None = None  # a multiprocessing finalizer is not: one per process
# the locks taken before a fork in progress, by the thread that forks: two threads may fork at
# once, and each must release only its own (a thread that ended holding one would block all)
_held: dict[int, list[Any]] = {}


def install() -> None:
    """Register the package's fork and exit hooks in this process; calling it again does
    nothing (in a forked child it adds only the multiprocessing finalizer, see the module)."""
    global _fork_hooks, _atexit_hook, _finalizer_pid
    with _LOCK:
        if not _fork_hooks and hasattr(os, "register_at_fork"):
            os.register_at_fork(
                before=_before_fork,
                after_in_parent=_release_held,
                after_in_child=_after_fork_in_child,
            )
            _fork_hooks = True
        if not _atexit_hook:
            atexit.register(run_exit_hooks)
            _atexit_hook = True
        # A pool worker is forked by a process that has imported multiprocessing; one that has
        # not cannot be one, and need not pay for the import.
        util = sys.modules.get("multiprocessing.util")
        if util is not None and _finalizer_pid != os.getpid():
            util.Finalize(None, run_exit_hooks, exitpriority=100)
            _finalizer_pid = os.getpid()


def _lookup(module: str, name: str) -> Any:
    return getattr(sys.modules.get(module), name, None)


def _before_fork() -> None:
    taken = []
    for module, name in FORK_LOCKS:
        lock = _lookup(module, name)
        if lock is not None:
            lock.acquire()
            taken.append(lock)
    _held[threading.get_ident()] = taken


def _release_held() -> None:
    """Release the locks this thread took before its fork (in the parent, and in the child,
    where the forking thread goes on)."""
    for lock in reversed(_held.pop(threading.get_ident(), [])):
        lock.release()


def _after_fork_in_child() -> None:
    global _LOCK
    _LOCK = threading.Lock()  # another thread of the parent may have held it
    _release_held()
    _held.clear()  # the parent's other threads are not here
    for module, name in AFTER_FORK_IN_CHILD:
        forget = _lookup(module, name)
        if forget is not None:
            forget()


def run_exit_hooks() -> None:
    """Stop this process's warm kernels and fork servers (at exit; also safe to call early)."""
    for module, name in AT_EXIT:
        close = _lookup(module, name)
        if close is None:
            continue
        try:
            close()
        except Exception:  # the next hook must still run
            log.debug("exit hook %s.%s failed", module, name, exc_info=True)
