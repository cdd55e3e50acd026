"""The client side of the fork-server protocol, against a peer that answers as the server would
(the real server is exercised by every forked sweep: tests/kernels/test_forking.py)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from mlops_nb.errors import ForkServerError
from mlops_nb.kernels.fork_connection import ForkConnection, ForkedProcess


class Peer:
    """The server's end of a connection: reads requests, sends what the test says."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.file = sock.makefile("rb")

    def request(self) -> dict[str, object]:
        msg: dict[str, object] = json.loads(self.file.readline())
        return msg

    def send(self, **msg: object) -> None:
        self.sock.sendall((json.dumps(msg) + "\n").encode())

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def pair() -> Iterator[tuple[ForkConnection, Peer]]:
    mine, theirs = socket.socketpair()
    conn = ForkConnection(mine)
    peer = Peer(theirs)
    yield conn, peer
    conn.close()
    peer.close()


def _spawn(
    conn: ForkConnection, timeout: float = 30.0
) -> tuple[threading.Thread, dict[str, object]]:
    """Ask for a kernel in a thread (the reply comes from the peer); the result lands in the dict."""
    out: dict[str, object] = {}

    def go() -> None:
        try:
            out["proc"] = conn.spawn("k.json", "/tmp", {"A": "1"}, ["--x"], timeout)
        except ForkServerError as e:
            out["error"] = e.message

    t = threading.Thread(target=go)
    t.start()
    return t, out


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )


def test_a_spawned_kernel_reports_its_exit(pair: tuple[ForkConnection, Peer]) -> None:
    conn, peer = pair
    t, out = _spawn(conn)
    req = peer.request()
    assert {k: req[k] for k in ("connection_file", "cwd", "env", "args")} == {
        "connection_file": "k.json",
        "cwd": "/tmp",
        "env": {"A": "1"},
        "args": ["--x"],
    }
    peer.send(id=req["id"], pid=424242)
    t.join()
    proc = out["proc"]
    assert isinstance(proc, ForkedProcess) and proc.pid == 424242
    assert proc.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(0.01)
    peer.send(exit=424242, status=-9)
    assert proc.wait(30) == -9 and proc.poll() == -9
    proc.kill()  # gone already: nothing is signalled


def test_an_exit_that_overtakes_the_reply_is_kept(pair: tuple[ForkConnection, Peer]) -> None:
    conn, peer = pair
    t, out = _spawn(conn)
    req = peer.request()
    peer.send(exit=515151, status=3)  # read before the spawn reply
    peer.send(id=req["id"], pid=515151)
    t.join()
    proc = out["proc"]
    assert isinstance(proc, ForkedProcess) and proc.wait(30) == 3


def test_an_error_reply_is_a_fork_server_error(pair: tuple[ForkConnection, Peer]) -> None:
    conn, peer = pair
    t, out = _spawn(conn)
    peer.send(id=peer.request()["id"], error="fork failed: out of memory")
    t.join()
    assert out == {"error": "fork failed: out of memory"}


def test_a_reply_that_comes_too_late_kills_its_kernel(pair: tuple[ForkConnection, Peer]) -> None:
    conn, peer = pair
    t, out = _spawn(conn, timeout=0.05)
    req = peer.request()
    t.join()
    assert out == {"error": "the fork server did not answer in time"}
    late = _sleeper()
    try:
        peer.send(id=req["id"], pid=late.pid)
        assert late.wait(30) == -signal.SIGKILL  # nobody will use it
        peer.send(exit=late.pid, status=-9)  # its exit notice is ignored
        t, out = _spawn(conn)  # and the connection still serves
        peer.send(id=peer.request()["id"], pid=616161)
        t.join()
        assert isinstance(out["proc"], ForkedProcess)
    finally:
        late.kill()


def test_when_the_server_goes_its_kernels_and_requests_fail(
    pair: tuple[ForkConnection, Peer],
) -> None:
    conn, peer = pair
    t, out = _spawn(conn)
    req = peer.request()
    peer.send(id=req["id"], pid=717171)
    t.join()
    proc = out["proc"]
    assert isinstance(proc, ForkedProcess)
    t, out = _spawn(conn)  # pending when the server goes
    peer.request()
    peer.close()
    t.join()
    assert out == {"error": "the fork server is gone"}
    assert proc.wait(30) == -signal.SIGKILL
    with pytest.raises(ForkServerError, match="gone"):
        conn.spawn("k.json", "/tmp", {}, [], 30)


def test_a_forked_process_is_signalled_while_it_runs(pair: tuple[ForkConnection, Peer]) -> None:
    conn, _ = pair
    child = _sleeper()
    proc = ForkedProcess(child.pid, conn)
    proc.terminate()
    assert child.wait(30) == -signal.SIGTERM
    conn.close()
    conn._reader.join(30)
    assert proc.poll() == -signal.SIGKILL  # the connection closed: the server took it down
