"""Kernels forked from a warmed-up template process instead of started from scratch.

A fresh IPython kernel spends ~0.5 s of CPU importing ipykernel, IPython, tornado and debugpy
before it can run a cell; on a sweep of small runs that is most of the work. A ``ForkServer``
(``_forkserver.py``, run by the kernel's own Python) imports all of it once, plus the
``--preload`` modules, and forks a child per kernel: ~0.1 s of CPU each. Each kernel is still a
new process forked from the same untouched template, in its own session, so interrupting,
killing and measuring it works as for any kernel, and nothing of one run reaches another.

Only plain ipykernel kernel specs (``python -m ipykernel_launcher -f {connection_file} ...``)
are forked; anything else starts the usual way. ``ForkProvisioner`` is a jupyter_client
provisioner whose "launch" asks a fork server; ``IPCKernelManager(fork_server=...)`` uses it.

One server serves a whole process tree: a pool worker forked from the process that started the
server connects to it over its Unix socket (``acquire``), so a sweep pays for one template.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from mlops_nb.errors import ForkServerError

log = logging.getLogger(__name__)
SCRIPT = Path(__file__).with_name("_forkserver.py")
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


def kill_group(pid: int) -> None:
    """SIGKILL a kernel's process group, or the kernel alone if it has no group of its own yet."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            return
        except OSError:
            continue


def template_modules(preload: Sequence[str], cwd: str | os.PathLike[str] | None) -> tuple[str, ...]:
    """The preload modules a template may import: not the notebook's own (found in the kernels'
    working directory). Every run imports those itself, so state they create at import (a
    module-level random generator, a cache) is never shared between runs. Nor modules that are
    not safe to fork (``forksafety.FORK_UNSAFE``): each kernel imports them after the fork."""
    from mlops_nb.execution.forksafety import fork_safe

    preload = tuple(m for m in preload if fork_safe(m))
    if cwd is None:
        return preload
    from importlib.machinery import PathFinder

    return tuple(m for m in preload if PathFinder.find_spec(m.split(".")[0], [str(cwd)]) is None)


class ForkedProcess:
    """What jupyter_client's LocalProvisioner needs of a ``Popen``, for a forked kernel.

    The kernel is the fork server's child, not ours: the server reaps it and reports its exit
    status, which ``poll``/``wait`` return.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, conn: _Connection) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._exited = threading.Event()
        self._conn = conn

    def _set_exit(self, status: int) -> None:
        self.returncode = status
        self._exited.set()

    def poll(self) -> int | None:
        if self.returncode is None and self._conn.closed:
            self._set_exit(-signal.SIGKILL)  # the server went down, taking its children
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class _Connection:
    """One process's connection to a fork server: requests, replies, exit notices."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.closed = False
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, Future[int]] = {}
        self._procs: dict[int, ForkedProcess] = {}
        self._early_exits: dict[int, int] = {}
        self._abandoned: set[int] = set()  # request ids we stopped waiting for
        self._ignored: set[int] = set()  # their pids, killed when they came
        self._reader = threading.Thread(target=self._read, name="mlops-nb-fork", daemon=True)
        self._reader.start()

    def spawn(
        self,
        connection_file: str,
        cwd: str,
        env: dict[str, str],
        args: Sequence[str],
        timeout: float,
    ) -> ForkedProcess:
        req: dict[str, Any] = {
            "connection_file": connection_file,
            "cwd": cwd,
            "env": env,
            "args": list(args),
        }
        fut: Future[int] = Future()
        with self._lock:
            if self.closed:
                raise ForkServerError("the fork server is gone")
            rid = req["id"] = next(self._ids)
            self._pending[rid] = fut
            try:
                self.sock.sendall((json.dumps(req) + "\n").encode())
            except OSError as e:
                self._pending.pop(rid, None)
                raise ForkServerError(f"the fork server is gone ({e})") from None
        try:
            pid = fut.result(timeout)
        except TimeoutError:
            with self._lock:
                if self._pending.pop(rid, None) is not None:
                    self._abandoned.add(rid)  # if it comes up after all, it is killed
            raise ForkServerError("the fork server did not answer in time") from None
        with self._lock:
            proc = self._procs[pid] = ForkedProcess(pid, self)
            status = self._early_exits.pop(pid, None)
        if status is not None:
            proc._set_exit(status)
        return proc

    def _read(self) -> None:
        buf = b""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, _, buf = buf.partition(b"\n")
                    self._dispatch(json.loads(line))
        except (OSError, ValueError):
            pass
        finally:
            self._on_close()

    def _dispatch(self, msg: dict[str, Any]) -> None:
        with self._lock:
            if "exit" in msg:
                proc = self._procs.pop(int(msg["exit"]), None)
                if int(msg["exit"]) in self._ignored:  # a kernel we abandoned
                    self._ignored.discard(int(msg["exit"]))
                elif proc is None:  # the exit overtook our reading of the spawn reply
                    self._early_exits[int(msg["exit"])] = int(msg["status"])
                else:
                    proc._set_exit(int(msg["status"]))
                return
            rid = int(msg.get("id") or 0)
            fut = self._pending.pop(rid, None)
            abandoned = rid in self._abandoned
            self._abandoned.discard(rid)
        if fut is None:
            if abandoned and "pid" in msg:
                with self._lock:
                    self._ignored.add(int(msg["pid"]))
                kill_group(int(msg["pid"]))
            return
        if "pid" in msg:
            fut.set_result(int(msg["pid"]))
        else:
            fut.set_exception(ForkServerError(str(msg.get("error"))))

    def _on_close(self) -> None:
        with self._lock:
            self.closed = True
            pending, self._pending = self._pending, {}
            procs, self._procs = self._procs, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(ForkServerError("the fork server is gone"))
        for proc in procs.values():
            proc._set_exit(-signal.SIGKILL)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


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
                [python, str(SCRIPT), str(theirs.fileno()), self.address, ",".join(self.preload)],
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
        self._conn: _Connection | None = None
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
                self._conn = _Connection(self._control)
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
    def connection(self) -> _Connection:
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
_CONNECTIONS: dict[str, _Connection] = {}
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
            _register_exit_hook()
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


def _inherited_connection(server: ForkServer) -> _Connection:
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
        conn = _CONNECTIONS[server.address] = _Connection(sock)
        return conn


def close_all() -> None:
    """Stop the servers this process started (at exit)."""
    with _LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    for s in servers:
        s.close()


_HOOKED: set[int] = set()


def _register_exit_hook() -> None:
    """Stop our servers when this process ends: atexit, and a multiprocessing finalizer for a
    pool worker (which leaves through os._exit)."""
    if os.getpid() in _HOOKED:
        return
    _HOOKED.add(os.getpid())
    import atexit
    from multiprocessing import util

    atexit.register(close_all)
    util.Finalize(None, close_all, exitpriority=50)


def _after_fork_in_child() -> None:
    # A forked child must not hold the owner's lifeline nor use its reader threads: it gets
    # connections of its own (see _inherited_connection).
    global _LOCK
    _LOCK = threading.Lock()
    _CONNECTIONS.clear()
    for server in list(_ALL):
        server.users = 0  # the parent's references are not ours
        with contextlib.suppress(OSError):
            server._control.close()
        server._conn = None
        server._conn_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class ForkProvisioner(LocalProvisioner):
    """A LocalProvisioner whose launch forks the kernel from ``parent.fork_server``; polling,
    signalling and killing are LocalProvisioner's, on a ``ForkedProcess``."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        km: Any = self.parent
        server: ForkServer = km.fork_server
        cwd = str(kwargs.get("cwd") or os.getcwd())
        env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        # cmd is the kernel spec's argv, formatted: python -m ipykernel_launcher -f FILE [extra]
        proc: Any = server.spawn(km.connection_file, cwd, env, cmd[5:])
        self.process = proc
        self.pid = self.pgid = proc.pid  # the child calls setsid(): its own process group
        self.cwd = cwd
        return self.connection_info
