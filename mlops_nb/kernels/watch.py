"""A handle on one kernel process: its peak memory and CPU time, interrupt and kill.

``KernelWatch`` learns the kernel's pid when the kernel is launched (``manager.IPCKernelManager``
calls ``attach``) and can be used from any thread: a run's timeout, Ctrl-C and a sweep's stop
file stop the kernel through it, and the run record's ``resources`` come from it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

from mlops_nb.store.liveness import is_zombie

log = logging.getLogger(__name__)


class KernelWatch:
    """Thread-safe handle on one kernel process: resources, interrupt, kill."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pid: int | None = None
        self.peak_rss_bytes: int | None = None
        self.cpu_seconds: float | None = None
        self._stop_reason: str | None = None
        self._killer: threading.Timer | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def attach(self, pid: int | None) -> None:
        with self._lock:
            self.pid = pid
            reason = self._stop_reason
        if reason is not None:  # stopped while the kernel was still starting
            self.kill()

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    def stop(self, reason: str, *, grace: float = 2.0) -> bool:
        """Ask the kernel to stop: SIGINT now (a KeyboardInterrupt in the running cell, so the
        output notebook shows where it stopped), SIGKILL after ``grace`` seconds.

        Returns False when a stop was already requested (the first reason wins).
        """
        with self._lock:
            if self._stop_reason is not None:
                return False
            self._stop_reason = reason
            pid = self.pid
        if pid is not None:
            _signal(pid, signal.SIGINT, group=False)
            self._killer = threading.Timer(grace, self.kill)
            self._killer.daemon = True
            self._killer.start()
        return True

    def kill(self) -> None:
        """SIGKILL the kernel and its process group (children it started)."""
        pid = self.pid
        if pid is None:
            return
        self.sample()
        _signal(pid, signal.SIGKILL, group=True)

    def alive(self) -> bool:
        pid = self.pid
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover
            return True
        return not is_zombie(pid)

    def finish(self) -> None:
        """After the run: cancel the pending kill, make sure the kernel is gone, reap it."""
        if self._killer is not None:
            self._killer.cancel()
        if self.alive():
            log.warning("kernel %s still alive after the run; killing it", self.pid)
            self.kill()

    # -- resources ------------------------------------------------------------------------------
    def sample(self) -> None:
        """Record the kernel's peak RSS and CPU time so far (Linux /proc, else psutil)."""
        pid = self.pid
        if pid is None:
            return
        rss, cpu = _read_proc(pid)
        with self._lock:
            if rss is not None:
                self.peak_rss_bytes = max(rss, self.peak_rss_bytes or 0)
            if cpu is not None:
                self.cpu_seconds = max(cpu, self.cpu_seconds or 0.0)

    def resources(self) -> dict[str, Any]:
        cpu = None if self.cpu_seconds is None else round(self.cpu_seconds, 3)
        return {"peak_rss_bytes": self.peak_rss_bytes, "cpu_seconds": cpu}


def _signal(pid: int, sig: int, *, group: bool) -> None:
    try:
        if group:
            try:
                os.killpg(pid, sig)  # jupyter_client starts kernels in their own session
                return
            except (ProcessLookupError, PermissionError):
                pass
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _read_proc(pid: int) -> tuple[int | None, float | None]:
    rss: int | None = None
    cpu: float | None = None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    rss = int(line.split()[1]) * 1024
                    break
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[11..14] = utime, stime, cutime, cstime (clock ticks)
        cpu = sum(int(x) for x in fields[11:15]) / _CLK_TCK
        return rss, cpu
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        p = psutil.Process(pid)
        t = p.cpu_times()
        return p.memory_info().rss, t.user + t.system + t.children_user + t.children_system
    except Exception:  # psutil.Error or psutil missing: resources stay unknown
        return rss, cpu
