"""Stopping a kernel now, whoever started it, and removing what it leaves behind.

``kill_kernel`` reaches into jupyter_client's kernel manager (``cleanup_connection_file``,
``_close_control_socket``, its ZeroMQ context; jupyter_client 8 ``manager.py``), which its own
``shutdown_kernel`` would do only with an event loop and after asking the kernel nicely: a
pre-warmer killing a kernel nobody will use (closed, timed out, died while waiting) cannot wait.
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
from typing import Any


def kill_group(pid: int) -> None:
    """SIGKILL a kernel's process group, or the kernel alone if it has no group of its own yet."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            return
        except OSError:
            continue


def kernel_pid(km: Any) -> int | None:
    """The pid of a jupyter_client kernel manager's kernel (its provisioner's process), or None
    before it is launched."""
    prov = getattr(km, "provisioner", None)
    proc = getattr(prov, "process", None)
    pid = getattr(proc, "pid", None) or getattr(prov, "pid", None)
    return int(pid) if pid else None


def kill_kernel(km: Any) -> None:
    """Stop a kernel now (SIGKILL to its process group) and remove its connection files."""
    pid = kernel_pid(km)
    if pid is not None:
        kill_group(pid)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)
    with contextlib.suppress(Exception):
        km.cleanup_connection_file()
    with contextlib.suppress(Exception):
        km._close_control_socket()
    if getattr(km, "_created_context", False):
        with contextlib.suppress(Exception):
            km.context.destroy(linger=0)
    ip = str(getattr(km, "ip", ""))
    if getattr(km, "transport", "") == "ipc" and os.path.isabs(ip):
        for leftover in glob.glob(glob.escape(ip) + "-*"):
            with contextlib.suppress(OSError):
                os.remove(leftover)
