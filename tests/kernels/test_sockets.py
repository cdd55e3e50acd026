"""Socket files of killed processes are removed by the next process; live ones are kept."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from mlops_nb.kernels import sockets


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


def _unix_socket(path: Path, *, listen: bool) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    if listen:
        s.listen(1)
    return s


def test_clean_stale_removes_what_killed_processes_left_and_keeps_the_rest(tmp_path: Path) -> None:
    dead, live = _dead_pid(), os.getpid()
    (tmp_path / f"mlops-nb-{dead}-0123abcd-1").write_text("")
    (tmp_path / f"mlops-nb-{live}-0123abcd-1").write_text("")
    # connection files by their sockets: the dead process's goes, the live one's stays
    (tmp_path / f"mlops-nb-{dead}-0123abcd-kernel.json").write_text("{}")
    (tmp_path / f"mlops-nb-{live}-0123abcd-kernel.json").write_text("{}")
    (tmp_path / f"mlops-nb-{dead}-0123abcd-other.json").write_text("{}")  # not a name of ours
    (tmp_path / "mlops-nb-not-ours").write_text("")
    # a fork server's folder: its socket nobody listens on (the server was killed)
    gone = tmp_path / "mlops-nb-fork-gone"
    gone.mkdir()
    closed = _unix_socket(gone / "s", listen=False)
    # a fork server still importing (no socket yet), and one whose socket stayed unbound long
    fresh, old = tmp_path / "mlops-nb-fork-fresh", tmp_path / "mlops-nb-fork-old"
    fresh.mkdir()
    old.mkdir()
    long_ago = time.time() - sockets.FORK_DIR_GRACE_S - 60
    os.utime(old, (long_ago, long_ago))
    # a live fork server
    serving = tmp_path / "mlops-nb-fork-serving"
    serving.mkdir()
    listening = _unix_socket(serving / "s", listen=True)
    try:
        assert sockets.clean_stale(str(tmp_path)) == 4
    finally:
        closed.close()
        listening.close()
    assert {p.name for p in tmp_path.iterdir()} == {
        "mlops-nb-fork-fresh",
        "mlops-nb-fork-serving",
        f"mlops-nb-{live}-0123abcd-1",
        f"mlops-nb-{live}-0123abcd-kernel.json",
        f"mlops-nb-{dead}-0123abcd-other.json",
        "mlops-nb-not-ours",
    }


def test_clean_stale_of_a_missing_folder_removes_nothing(tmp_path: Path) -> None:
    assert sockets.clean_stale(str(tmp_path / "missing")) == 0
    assert sockets.clean_stale(str(tmp_path)) == 0
