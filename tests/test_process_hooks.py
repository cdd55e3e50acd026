"""Fork and exit hooks: none registered by importing the package, all by ``install()``, once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Records every fork/exit/signal hook registration with the module that asked for it.
RECORDER = """
import atexit, json, os, signal, sys
import multiprocessing.util as mp_util

calls = []

def recording(kind, real):
    def record(*args, **kwargs):
        calls.append([kind, sys._getframe(1).f_globals.get("__name__", "?")])
        return real(*args, **kwargs)
    return record

os.register_at_fork = recording("register_at_fork", os.register_at_fork)
atexit.register = recording("atexit", atexit.register)
signal.signal = recording("signal", signal.signal)

class Finalize(mp_util.Finalize):
    def __init__(self, *args, **kwargs):
        calls.append(["Finalize", sys._getframe(1).f_globals.get("__name__", "?")])
        super().__init__(*args, **kwargs)

mp_util.Finalize = Finalize

def ours():
    return [c for c in calls if c[1].startswith("mlops_nb")]
"""


def _run(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", RECORDER + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_every_module_registers_no_hook() -> None:
    found = _run(
        """
        import importlib, pkgutil
        import mlops_nb
        imported, failed = [], {}
        for info in pkgutil.walk_packages(mlops_nb.__path__, "mlops_nb."):
            if info.name.endswith("__main__"):
                continue  # runs the CLI
            try:
                importlib.import_module(info.name)
                imported.append(info.name)
            except ImportError as e:  # an optional extra not installed here
                failed[info.name] = str(e)
        print(json.dumps({"imported": imported, "failed": failed, "hooks": ours()}))
        """
    )
    assert isinstance(found, dict)
    imported = set(found["imported"])
    # the modules that registered hooks at import before, and the rest of the package
    assert {
        "mlops_nb.kernels.forking",
        "mlops_nb.kernels.prewarm",
        "mlops_nb.store.index",
        "mlops_nb.sweep.worker",
        "mlops_nb.process_hooks",
    } <= imported
    assert len(imported) > 150, found["failed"]
    assert found["hooks"] == []


def test_install_registers_each_hook_once_per_process() -> None:
    found = _run(
        """
        import os
        from mlops_nb import process_hooks
        process_hooks.install()
        process_hooks.install()
        parent = ours()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # a forked child (a pool worker) adds only its own finalizer
            process_hooks.install()
            process_hooks.install()
            os.write(w, json.dumps(ours()[len(parent):]).encode())
            os._exit(0)
        os.close(w)
        child = json.loads(os.read(r, 4096))
        os.waitpid(pid, 0)
        print(json.dumps({"parent": parent, "child": child}))
        """
    )
    assert found == {
        "parent": [
            ["register_at_fork", "mlops_nb.process_hooks"],
            ["atexit", "mlops_nb.process_hooks"],
            ["Finalize", "mlops_nb.process_hooks"],
        ],
        "child": [["Finalize", "mlops_nb.process_hooks"]],
    }


def test_the_child_forgets_the_parents_kernels_and_the_index_lock_spans_the_fork() -> None:
    found = _run(
        """
        import os, threading
        from pathlib import Path
        from mlops_nb.kernels import forking, prewarm
        from mlops_nb.store import index
        from mlops_nb.sweep import worker

        # registered before install(): runs after its before-fork hook, so it sees the lock held
        seen = []
        os.register_at_fork(before=lambda: seen.append(index._FORK_GUARD._is_owned()))
        warm = prewarm.Prewarmer(prewarm.KernelRecipe(cwd=Path("."), fork=False))  # installs
        worker._state()
        assert prewarm._LIVE and worker._STATES
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            child = {
                "live": len(prewarm._LIVE),
                "states": len(worker._STATES),
                "guard_free": index._FORK_GUARD.acquire(blocking=False),
                "lock_free": forking._LOCK.acquire(blocking=False),
            }
            os.write(w, json.dumps(child).encode())
            os._exit(0)
        os.close(w)
        child = json.loads(os.read(r, 4096))
        os.waitpid(pid, 0)
        parent = {"live": len(prewarm._LIVE), "states": len(worker._STATES)}
        warm.close()
        print(json.dumps({"seen": seen, "child": child, "parent": parent,
                          "owned_after": index._FORK_GUARD._is_owned()}))
        """
    )
    assert found == {
        "seen": [True],
        "child": {"live": 0, "states": 0, "guard_free": True, "lock_free": True},
        "parent": {"live": 1, "states": 1},
        "owned_after": False,
    }


def test_exit_hooks_close_what_is_loaded_and_survive_a_failing_one() -> None:
    found = _run(
        """
        import logging
        from mlops_nb import process_hooks
        from mlops_nb.kernels import prewarm

        process_hooks.run_exit_hooks()  # forking not imported: nothing to close there
        closed = []
        prewarm.close_all = lambda: (closed.append("prewarm"), 1 / 0)
        import mlops_nb.kernels.forking as forking
        forking.close_all = lambda: closed.append("forking")
        process_hooks.run_exit_hooks()
        print(json.dumps(closed))
        """
    )
    assert found == ["prewarm", "forking"]


def test_every_hook_named_exists() -> None:
    """The hooks are looked up by name when they run: a renamed one would silently not run."""
    import importlib

    from mlops_nb import process_hooks

    named = (*process_hooks.FORK_LOCKS, *process_hooks.AFTER_FORK_IN_CHILD, *process_hooks.AT_EXIT)
    missing = [
        f"{module}.{name}"
        for module, name in named
        if not hasattr(importlib.import_module(module), name)
    ]
    assert missing == []


def test_a_thread_releases_only_the_locks_it_took_for_its_own_fork() -> None:
    """Two threads may fork at once. With one shared list of held locks, the first thread's
    after-fork hook could pop and release the lock the second had just taken for its fork: a
    RuntimeError in the hook (not the owner), and the lock left held by the second thread after
    it ended, so the process's next index read (a sweep's first) hung."""
    import threading

    from mlops_nb import process_hooks
    from mlops_nb.store import index

    process_hooks._before_fork()  # this thread is about to fork: it holds the index's guard
    errors: list[BaseException] = []

    def other_threads_after_fork() -> None:
        try:
            process_hooks._release_held()  # another thread's fork ends: nothing of ours to release
        except BaseException as e:
            errors.append(e)

    other = threading.Thread(target=other_threads_after_fork)
    other.start()
    other.join()
    assert errors == []
    process_hooks._release_held()  # our fork ends: the guard is free for every thread
    free: list[bool] = []

    def another_read() -> None:
        got = index._FORK_GUARD.acquire(timeout=5)
        free.append(got)
        if got:
            index._FORK_GUARD.release()

    waiter = threading.Thread(target=another_read)
    waiter.start()
    waiter.join()
    assert free == [True]
