"""Is the process that wrote a ``running`` record still there? If not, the record is ``lost``.

A run (or sweep) record says ``running`` from its start until its final write. If its owner —
the process driving it — is killed (SIGKILL, out of memory, a machine restart) or cannot write
the final record (a full disk), the record would say ``running`` forever. Each record therefore
names its owner: ``host``, ``pid``, the Linux ``boot_id`` and the process's start time
(``pid_started``, clock ticks after boot, field 22 of ``/proc/PID/stat``; proc(5)), so a pid
reused by another process after a restart or a wrap-around is not mistaken for the owner.

Every reader sees such a record as ``lost`` (``resolve``); the next sweep or pipeline that
resumes it writes that down (``store.settle``). A record owned by another host cannot be checked from
here and keeps its status.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
from collections.abc import Mapping
from typing import Any

LOST = "lost"
LOST_ENAME = "DriverLost"
_OWNER_KEYS = ("host", "pid", "boot_id", "pid_started")


@functools.cache
def boot_id() -> str | None:
    """This boot's random id (Linux), or None where there is none."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip() or None
    except OSError:
        return None


def start_ticks(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot), or None if unknown or gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":  # a zombie has finished: it owns nothing any more
        return None
    with contextlib.suppress(ValueError, IndexError):
        return int(fields[19])
    return None


def owner() -> dict[str, Any]:
    """The owner fields of a record written by this process."""
    pid = os.getpid()
    return {
        "host": socket.gethostname(),
        "pid": pid,
        "boot_id": boot_id(),
        "pid_started": start_ticks(pid),
    }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def owner_gone(record: Mapping[str, Any]) -> bool:
    """True when the record's owner process is known to be gone (checked on its own host only)."""
    host, pid = record.get("host"), record.get("pid")
    if host != socket.gethostname() or not isinstance(pid, int):
        return False
    recorded_boot = record.get("boot_id")
    if recorded_boot and boot_id() and recorded_boot != boot_id():
        return True  # the machine restarted since
    if not _pid_alive(pid):
        return True
    now = start_ticks(pid)
    if now is None:  # a zombie (finished), or a process we may not inspect (alive)
        return is_zombie(pid)
    started = record.get("pid_started")
    return isinstance(started, int) and now != started


def is_zombie(pid: int) -> bool:
    """Whether ``pid`` has exited but not been reaped yet (state ``Z`` in ``/proc/PID/stat``,
    proc(5)); False where there is no ``/proc``."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def lost_error(record: Mapping[str, Any], what: str = "run") -> dict[str, Any]:
    pid, host = record.get("pid"), record.get("host")
    return {
        "ename": LOST_ENAME,
        "evalue": (
            f"the process driving this {what} (pid {pid} on {host}) ended before it finished "
            "(killed, crashed, out of memory, or the record could not be written); "
            "re-invoke the sweep or pipeline to run it again"
        ),
        "cell_index": None,
        "traceback": [],
    }


def resolve(record: dict[str, Any], what: str = "run") -> dict[str, Any]:
    """The record as readers should see it: ``running`` with its owner gone becomes ``lost``."""
    if record.get("status") != "running" or not owner_gone(record):
        return record
    return {**record, "status": LOST, "error": record.get("error") or lost_error(record, what)}
