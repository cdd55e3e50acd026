"""Which fork server a kernel is forked from: the acquisition policy.

``fork_command`` says whether a kernel spec can be forked at all (a plain ipykernel), and
``template_modules`` which preload modules its template may import. ``ForkSource`` is a
pre-warmer's (or a pipeline's) fork server: acquired on first use (``forking.acquire``: one per
recipe, shared by a process tree), replaced when it died, released by ``close``; a server that
cannot start is warned about once and the kernels start the usual way. ``prestart_fork_server``
starts one in the background so its template imports while a sweep gets going.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb.errors import ForkServerError

if TYPE_CHECKING:
    from mlops_nb.kernels.prewarm import KernelRecipe

log = logging.getLogger(__name__)
LAUNCHER_ARGS = ["-m", "ipykernel_launcher", "-f", "{connection_file}"]


def fork_command(kernel_spec: Any) -> tuple[str, list[str]] | None:
    """(python, extra kernel arguments) when ``kernel_spec`` is a plain ipykernel; else None."""
    argv = [str(a) for a in getattr(kernel_spec, "argv", None) or []]
    metadata = getattr(kernel_spec, "metadata", None) or {}
    if len(argv) < 5 or argv[1:5] != LAUNCHER_ARGS or "{" in "".join(argv[5:]):
        return None
    if metadata.get("kernel_provisioner") or sys.platform == "win32":
        return None
    if getattr(kernel_spec, "env", None):
        # Variables Python reads at start-up (PYTHONPATH, PYTHONHASHSEED ...) would be ignored:
        # the template started long before.
        return None
    python = argv[0]
    if python in {
        "python",
        f"python{sys.version_info[0]}",
        "python{}.{}".format(*sys.version_info),
    }:
        # As jupyter_client launches it: this environment's Python, not the first on PATH.
        python = sys.executable
    return python, argv[5:]


def template_modules(preload: Sequence[str], cwd: str | os.PathLike[str] | None) -> tuple[str, ...]:
    """The preload modules a template may import: not the notebook's own (found in the kernels'
    working directory). Every run imports those itself, so state they create at import (a
    module-level random generator, a cache) is never shared between runs. Nor modules that are
    not safe to fork (``forksafety.FORK_UNSAFE``): each kernel imports them after the fork."""
    from mlops_nb.kernels.forksafety import fork_safe

    preload = tuple(m for m in preload if fork_safe(m))
    if cwd is None:
        return preload
    from importlib.machinery import PathFinder

    return tuple(m for m in preload if PathFinder.find_spec(m.split(".")[0], [str(cwd)]) is None)


_FORK_FAILED: set[tuple[str, tuple[str, ...]]] = set()
_PRELOAD_WARNED: set[tuple[str, tuple[str, ...]]] = set()


class ForkSource:
    """The fork server a pre-warmer forks its kernels from: acquired on first use, replaced if
    it died, released by ``close``. Thread-safe."""

    def __init__(self, recipe: KernelRecipe) -> None:
        self.recipe = recipe
        self._lock = threading.Lock()
        self._server: Any = None
        self._closed = False

    def server(self, kernel_spec: Any) -> Any:
        """The ready fork server for this kernel spec, or None (the kernel then starts the usual
        way): the spec is not a plain ipykernel, or the server failed (warned once)."""
        from mlops_nb.kernels import forking

        command = fork_command(kernel_spec)
        if command is None:
            return None
        modules = template_modules(self.recipe.preload, self.recipe.cwd)
        key = (command[0], modules)
        with self._lock:
            if self._closed or key in _FORK_FAILED:
                return None
            server, dead = self._server, None
            if server is not None and not server.alive():
                dead, server = server, None
            try:
                if server is None:
                    server = self._server = forking.acquire(
                        command[0], modules, start_timeout=self.recipe.start_timeout
                    )
            except ForkServerError as e:
                server = None
                failure: Exception | None = e
            else:
                failure = None
        if dead is not None:
            forking.release(dead)
        if server is not None:
            try:
                server.connection()  # waits until the template is ready (outside the lock)
            except ForkServerError as e:
                failure = e
        if failure is not None:
            if key not in _FORK_FAILED:
                _FORK_FAILED.add(key)
                log.warning("cannot fork kernels (%s); starting each kernel the usual way", failure)
            return None
        if server.preload_failed and key not in _PRELOAD_WARNED:
            _PRELOAD_WARNED.add(key)
            for name, error in server.preload_failed.items():
                log.warning("--preload %s failed in the kernel: %s", name, error)
        return server

    def close(self) -> None:
        from mlops_nb.kernels import forking

        with self._lock:
            self._closed = True
            server, self._server = self._server, None
        if server is not None:
            forking.release(server)


def prestart_fork_server(kernel_name: str, preload: Sequence[str], cwd: Path) -> Any:
    """Start the fork server for ``kernel_name`` now, in the background (best effort): the
    template imports while the sweep gets going, and pool workers forked afterwards share it.
    Returns the server (for ``forking.release``) or None.

    The usual kernel, ``python3``, is this Python's ipykernel: its template starts before the
    kernel spec is even looked up (importing jupyter_client to do so takes ~0.1 s), and is
    stopped again if the spec says otherwise."""
    from mlops_nb.kernels import forking

    modules = template_modules(preload, cwd)
    guess = _acquire(sys.executable, modules) if kernel_name == NATIVE_KERNEL else None
    command = _fork_command_of(kernel_name)
    if guess is not None and command is not None and command[0] == guess.python:
        return guess
    if guess is not None:
        forking.release(guess)
    return None if command is None else _acquire(command[0], modules)


NATIVE_KERNEL = "python3"  # jupyter_client's name for the kernel of the Python it runs in


def _fork_command_of(kernel_name: str) -> tuple[str, list[str]] | None:
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except Exception:  # no such kernel: the runs report it
        return None
    return fork_command(spec)


def _acquire(python: str, modules: tuple[str, ...]) -> Any:
    from mlops_nb.kernels import forking

    try:
        return forking.acquire(python, modules)
    except ForkServerError:
        return None
