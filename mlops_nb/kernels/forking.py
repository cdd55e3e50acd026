"""Kernels forked from a warmed-up template process instead of started from scratch.

A fresh IPython kernel spends ~0.5 s of CPU importing ipykernel, IPython, tornado and debugpy
before it can run a cell; on a sweep of small runs that is most of the work. A ``ForkServer``
(``_forkserver.py``, run by the kernel's own Python) imports all of it once, plus the
``--preload`` modules, and forks a child per kernel: ~0.1 s of CPU each. Each kernel is still a
new process forked from the same untouched template, in its own session, so interrupting,
killing and measuring it works as for any kernel, and nothing of one run reaches another.

Only plain ipykernel kernel specs (``python -m ipykernel_launcher -f {connection_file} ...``)
are forked; anything else starts the usual way. ``manager.ForkProvisioner`` is a jupyter_client
provisioner whose "launch" asks a fork server; ``IPCKernelManager(fork_server=...)`` uses it.
This module does not import jupyter_client, so a command line can start a server first thing.

One server serves a whole process tree: a pool worker forked from the process that started the
server connects to it over its Unix socket (``acquire``), so a sweep pays for one template.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from mlops_nb import process_hooks
from mlops_nb.errors import ForkServerError
from mlops_nb.kernels.fork_connection import ForkConnection, ForkedProcess

log = logging.getLogger(__name__)
SCRIPT = Path(__file__).with_name("_forkserver.py")
# Modules that build parsers at import time, which the template's kernels build on first use
# (``_grammars.py``): ``rfc3987_syntax``, imported by jsonschema where JupyterLab is installed.
DEFERRED_GRAMMARS = ("rfc3987_syntax.syntax_helpers",)


class ForkServer:
    """A fork server for one (python, preload) recipe, owned by the process that started it."""

    def __init__(self, python: str, preload: Sequence[str] = (), *, start_timeout: float = 60.0):
        self.python = python
        self.preload = tuple(preload)
        self.start_timeout = start_timeout
        self.owner = os.getpid()
        self._dir = tempfile.mkdtemp(prefix="mlops-nb-fork-")  # mode 0700: ours only
        self.address = os.path.join(self._dir, "s")
        mine, theirs = socket.socketpair()
        self._control = mine
        _ALL.add(self)  # from now on a fork of this process drops our lifeline (at-fork hook)
        try:
            self.proc = subprocess.Popen(
                [
                    python,
                    str(SCRIPT),
                    str(theirs.fileno()),
                    self.address,
                    ",".join(self.preload),
                    ",".join(DEFERRED_GRAMMARS),
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                # Like the kernels, out of our process group: Ctrl-C or a SIGTERM to the group
                # must reach us (we stop the runs and record them), not kill the kernels first.
                start_new_session=True,
            )
        except OSError as e:
            mine.close()
            shutil.rmtree(self._dir, ignore_errors=True)
            raise ForkServerError(f"cannot start {python}: {e}") from None
        finally:
            theirs.close()
        self._ready: Future[dict[str, Any]] = Future()
        self._conn: ForkConnection | None = None
        self._conn_lock = threading.Lock()
        self.preload_failed: dict[str, str] = {}
        self.users = 0  # references held in this process (see acquire/release)

    # -- start-up -------------------------------------------------------------------------------
    def wait_ready(self) -> None:
        """Block until the template has imported everything (raises ForkServerError if not)."""
        with self._conn_lock:
            if self._conn is None and not self._ready.done():
                try:
                    self._ready.set_result(self._read_ready())
                except ForkServerError as e:
                    self._ready.set_exception(e)
        msg = self._ready.result()
        with self._conn_lock:
            if self._conn is None:
                self._control.settimeout(None)
                self._conn = ForkConnection(self._control)
        self.preload_failed = dict(msg.get("preload_failed") or {})

    def _read_ready(self) -> dict[str, Any]:
        self._control.settimeout(self.start_timeout)
        buf = b""
        try:
            while b"\n" not in buf:
                data = self._control.recv(4096)
                if not data:
                    break
                buf += data
        except TimeoutError:
            self.close()
            raise ForkServerError("the fork server did not start in time") from None
        except OSError as e:
            raise ForkServerError(f"the fork server failed: {e}") from None
        try:
            msg: dict[str, Any] = json.loads(buf.partition(b"\n")[0])
        except ValueError:
            msg = {"error": f"it exited with status {self.proc.wait()}"}
        if "error" in msg:
            self.close()
            raise ForkServerError(f"the fork server could not start: {msg['error']}")
        return msg

    # -- use ------------------------------------------------------------------------------------
    def connection(self) -> ForkConnection:
        if os.getpid() == self.owner:
            self.wait_ready()
            assert self._conn is not None
            return self._conn
        return _inherited_connection(self)

    def spawn(
        self, connection_file: str, cwd: str, env: dict[str, str], args: Sequence[str] = ()
    ) -> ForkedProcess:
        return self.connection().spawn(connection_file, cwd, env, args, self.start_timeout)

    def alive(self) -> bool:
        if os.getpid() == self.owner:
            return self.proc.poll() is None
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False

    def close(self) -> None:
        """Stop the server: it kills the kernels it forked that are still running."""
        if os.getpid() != self.owner:
            return
        if not self._ready.done() and not _readable(self._control):
            self.proc.kill()  # still importing: no kernel to take down with it
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        else:
            with contextlib.suppress(OSError):
                self._control.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


def _readable(sock: socket.socket) -> bool:
    import select

    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return False


# -- one server per recipe, shared by a process tree ----------------------------------------------
_SERVERS: dict[tuple[str, tuple[str, ...]], ForkServer] = {}
_ALL: weakref.WeakSet[ForkServer] = weakref.WeakSet()  # every server object in this process
_CONNECTIONS: dict[str, ForkConnection] = {}
_LOCK = threading.Lock()


def acquire(python: str, preload: Sequence[str] = (), *, start_timeout: float = 60.0) -> ForkServer:
    """The fork server for this recipe, for one more user (``release`` it when done): ours, one
    the process we were forked from started (we connect to it), or a new one owned by this
    process. A server found dead is replaced."""
    key = (python, tuple(preload))
    dead = None
    with _LOCK:
        server = _SERVERS.get(key)
        if server is not None and not server.alive():
            dead, server = server, None
        if server is None:
            server = _SERVERS[key] = ForkServer(python, preload, start_timeout=start_timeout)
            process_hooks.install()  # the server stops when this process ends
        server.users += 1
    if dead is not None:
        dead.close()  # reaps it (ours) and removes its socket folder
    return server


def release(server: ForkServer) -> None:
    """One user less; the last user of a server this process started stops it (its kernels go
    with it). Sweeps in parallel threads of one process each hold their own reference."""
    with _LOCK:
        server.users -= 1
        if server.users > 0 or os.getpid() != server.owner:
            return
        key = (server.python, server.preload)
        if _SERVERS.get(key) is server:
            del _SERVERS[key]
    server.close()


def _inherited_connection(server: ForkServer) -> ForkConnection:
    """Connect this process (forked from the server's owner) to the server's socket; the
    server may still be importing, so wait for its socket while it is alive."""
    with _LOCK:
        conn = _CONNECTIONS.get(server.address)
        if conn is not None and not conn.closed:
            return conn
        deadline = time.monotonic() + server.start_timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(server.address)
                break
            except OSError:
                sock.close()
                if not server.alive() or time.monotonic() > deadline:
                    raise ForkServerError("the shared fork server is not available") from None
                time.sleep(0.02)
        conn = _CONNECTIONS[server.address] = ForkConnection(sock)
        return conn


def close_all() -> None:
    """Stop the servers this process started (at exit)."""
    with _LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    for s in servers:
        s.close()


def forget_parent_servers() -> None:
    """In a forked child (``process_hooks``): it must not hold the owner's lifeline nor use its
    reader threads; it gets connections of its own (see ``_inherited_connection``)."""
    global _LOCK
    _LOCK = threading.Lock()
    _CONNECTIONS.clear()
    for server in list(_ALL):
        server.users = 0  # the parent's references are not ours
        with contextlib.suppress(OSError):
            server._control.close()
        server._conn = None
        server._conn_lock = threading.Lock()
