"""Socket files left in the temp folder by processes that were killed, removed by the next one.

Kernels on IPC transport bind their five channels as Unix sockets named
``<tmp>/mlops-nb-<pid>-<hex>-<n>`` (``<pid>``: the process that started the kernel), next to
its connection file ``<tmp>/mlops-nb-<pid>-<hex>-kernel.json`` (mode 0600: the key); a fork
server listens on ``<tmp>/mlops-nb-fork-<random>/s``. A clean shutdown removes them; SIGKILL
does not. ``clean_stale`` (run once per process, before its first kernel) removes the ones whose
process is gone: a kernel socket whose starting process no longer exists, a fork-server folder
whose socket nobody listens on.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import re
import shutil
import socket
import tempfile
import time

log = logging.getLogger(__name__)
KERNEL_SOCKET = re.compile(r"^mlops-nb-(\d+)-[0-9a-f]{8}-(?:\d+|kernel\.json)$")
FORK_DIR = re.compile(r"^mlops-nb-fork-[A-Za-z0-9_]+$")
FORK_DIR_GRACE_S = 120.0  # a fork server may still be importing before it binds its socket


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _listening(path: str) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError as e:
        return e.errno not in (errno.ECONNREFUSED, errno.ENOENT)
    finally:
        s.close()


def clean_stale(tmp: str | None = None) -> int:
    """Remove our stale socket and connection files from ``tmp`` (default: the temp folder);
    how many."""
    tmp = tmp or tempfile.gettempdir()
    removed = 0
    uid = os.getuid()
    try:
        entries = list(os.scandir(tmp))
    except OSError:
        return 0
    for entry in entries:
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if st.st_uid != uid:
                continue
            m = KERNEL_SOCKET.match(entry.name)
            if m and not _alive(int(m.group(1))):
                os.unlink(entry.path)
                removed += 1
            elif FORK_DIR.match(entry.name) and entry.is_dir(follow_symlinks=False):
                sock = os.path.join(entry.path, "s")
                old = time.time() - st.st_mtime > FORK_DIR_GRACE_S
                if (os.path.exists(sock) and not _listening(sock)) or (
                    old and not os.path.exists(sock)
                ):
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed += 1
    if removed:
        log.info("removed %d stale kernel socket files from %s", removed, tmp)
    return removed


@functools.cache
def clean_once() -> None:
    """``clean_stale`` the first time this process starts a kernel."""
    clean_stale()
