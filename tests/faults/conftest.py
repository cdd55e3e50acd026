"""Real faults for the fault tests: a small tmpfs, a non-root user, killed processes.

CI runs these as root on a clean clone: root mounts the tmpfs and creates the user; a
non-root developer gets the chmod faults natively and the tmpfs faults only with root
(those tests say so when skipped).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests import nbbuild as b

ROOT = os.geteuid() == 0
FAULT_USER = "mlopsnb-fault"
# root without the capabilities that bypass file modes (capabilities(7)): when this checkout's
# Python is not reachable by another user (a Python under /root), the chmod faults run so
FAULT_NO_DAC = "root-without-dac-override"
NO_DAC_ROOT = FAULT_NO_DAC
TRACEBACK = "Traceback (most recent call last)"


def mlops(
    *args: str, env: dict[str, str] | None = None, user: str | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``python -m mlops_nb ARGS`` in a subprocess (as ``user`` when given)."""
    cmd = [sys.executable, "-m", "mlops_nb", *args]
    full_env = {**os.environ, **(env or {})}
    if user == NO_DAC_ROOT:
        cmd = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", *cmd]
    elif user is not None:
        keep = ",".join(sorted(k for k in full_env if k.startswith(("MLOPS_NB", "PYDEVD"))))
        full_env["HOME"] = f"/tmp/{user}-home"
        cmd = ["runuser", "-u", user, f"--whitelist-environment={keep}", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout)


def one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> str:
    """The single ``mlops-nb: error:`` line of stderr, with no traceback, containing ``words``."""
    assert TRACEBACK not in done.stderr, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("mlops-nb: error:")]
    assert len(lines) == 1, done.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def tiny_tmpfs_supported() -> bool:
    return ROOT and sys.platform.startswith("linux")


@contextlib.contextmanager
def tmpfs(path: Path, size_kb: int) -> Iterator[Path]:
    """A tmpfs of ``size_kb`` KB mounted on ``path`` (root only)."""
    if not tiny_tmpfs_supported():
        pytest.skip("mounting a tmpfs needs root (CI runs these as root)")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0777", "tmpfs", str(path)], check=True
    )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill(folder: Path, leave_kb: int) -> Path:
    """Fill the filesystem of ``folder`` up to ``leave_kb`` KB free; returns the filler file."""
    filler = folder / "filler"
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave_kb * 1024))
    return filler


@pytest.fixture(scope="session")
def fault_user() -> str | None:
    """A non-root user that can run this checkout's Python (None when we are not root: then
    we are such a user ourselves)."""
    if not ROOT:
        return None
    try:
        pwd.getpwnam(FAULT_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FAULT_USER],
            check=True,
        )
    probe = subprocess.run(
        ["runuser", "-u", FAULT_USER, "--", sys.executable, "-c", "import mlops_nb"],
        capture_output=True,
        text=True,
    )
    if probe.returncode == 0:
        return FAULT_USER
    return NO_DAC_ROOT


def chown(path: Path, user: str | None) -> None:
    if user is None or user == NO_DAC_ROOT:
        return
    pw = pwd.getpwnam(user)
    for p in [path, *path.rglob("*")]:
        os.chown(p, pw.pw_uid, pw.pw_gid)


def notebook(path: Path, params: str, *body: str) -> Path:
    path.write_text(json.dumps(b.notebook(b.params(params), *(b.code(s) for s in body))))
    return path


def records(runs: Path) -> list[dict[str, Any]]:
    out = []
    for rec in sorted(runs.glob("*/run.json")):
        out.append(json.loads(rec.read_text()))
    return out


def assert_clean_store(runs: Path) -> None:
    """No temp files, no empty run folders, no partial notebooks left in the store."""
    leftovers = [
        p.relative_to(runs).as_posix()
        for p in runs.rglob("*")
        if re.search(r"\.tmp$|\.partial\.ipynb$", p.name)
    ]
    assert leftovers == [], leftovers
    empty = [p.name for p in runs.iterdir() if p.is_dir() and not any(p.iterdir())]
    assert empty == [], f"empty folders: {empty}"


def collected(runs: Path, *extra: str, user: str | None = None) -> list[dict[str, Any]]:
    done = mlops("collect", "--runs-dir", str(runs), "--format", "json", *extra, user=user)
    assert done.returncode == 0, done.stderr
    data: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    return data


def wait_for(predicate: Any, timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll ``predicate`` (the state of another process) until truthy."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def gone(procs: Sequence[psutil.Process], timeout: float = 20.0) -> list[int]:
    """Pids of ``procs`` still alive (not zombies) after ``timeout`` seconds."""
    _, alive = psutil.wait_procs(list(procs), timeout=timeout)
    left = []
    for p in alive:
        with contextlib.suppress(psutil.Error):
            if p.status() != psutil.STATUS_ZOMBIE:
                left.append(p.pid)
    return left


def stale_sockets(pids: Sequence[int]) -> list[str]:
    import tempfile

    tmp = Path(tempfile.gettempdir())
    return sorted(
        p.name for pid in pids for p in tmp.glob(f"mlops-nb-{pid}-*") if p.name.count("-") == 4
    )
