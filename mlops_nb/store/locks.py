"""One process at a time: an exclusive ``flock`` on a file in the runs store.

The kernel releases the lock when its holder dies, however it dies (SIGKILL included), so a
killed sweep never blocks the next one. The holder's pid is written into the file for the
message the second process prints.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from mlops_nb.errors import StoreError
from mlops_nb.store import runs as store


@contextlib.contextmanager
def exclusive(path: Path, *, busy: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed) for the block.

    Raises ``StoreError`` with ``busy`` (``{pid}`` is replaced by the holder's pid) when another
    process holds it, or with the reason when the file cannot be created (read-only, full).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o666)
    except OSError as e:
        raise store.store_error(e, "create the lock file", path) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise store.store_error(e, "lock", path) from None
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise StoreError(busy.format(pid=holder)) from None
        with contextlib.suppress(OSError):  # on a full disk the pid is only for the message
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
