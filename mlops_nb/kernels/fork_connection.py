"""The client side of the fork server's protocol (``_forkserver.py``): one process's connection.

A ``ForkConnection`` sends kernel requests as JSON lines and reads, on its own thread, the
replies (the new kernel's pid) and the exit notices of the kernels it asked for. A
``ForkedProcess`` is what jupyter_client's ``LocalProvisioner`` needs of a ``Popen`` for a kernel
that is the server's child, not ours.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from mlops_nb.errors import ForkServerError
from mlops_nb.kernels.killer import kill_group


class ForkedProcess:
    """What jupyter_client's LocalProvisioner needs of a ``Popen``, for a forked kernel.

    The kernel is the fork server's child, not ours: the server reaps it and reports its exit
    status, which ``poll``/``wait`` return.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, conn: ForkConnection) -> None:
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


class ForkConnection:
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
