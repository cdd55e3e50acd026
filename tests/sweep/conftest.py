from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

KERNEL_MARKS = ("ipykernel_launcher", "_forkserver.py")


def sweep_command(nb: Path, grid: Path, *more: str) -> list[str]:
    """The ``mlops-nb sweep NB --grid GRID ...`` command line, run by this Python."""
    return [
        sys.executable,
        "-m",
        "mlops_nb",
        "sweep",
        str(nb),
        "--grid",
        str(grid),
        *more,
    ]  # started, or forked by a fork server


def kernels_under(folder: Path) -> list[psutil.Process]:
    """Live kernel processes whose working directory is inside ``folder`` (started by this test)."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if not any(mark in cmd for mark in KERNEL_MARKS):
                continue
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            if Path(p.cwd()).is_relative_to(folder):
                found.append(p)
        except (psutil.Error, OSError):
            continue
    return found


@pytest.fixture
def no_kernels_left(tmp_path: Path) -> Iterator[Path]:
    """The test's folder; afterwards no kernel started there may still run."""
    yield tmp_path
    leftovers = kernels_under(tmp_path) + fork_servers()
    for p in leftovers:
        p.kill()
    assert not leftovers, f"kernels left running: {[p.pid for p in leftovers]}"


def fork_servers() -> list[psutil.Process]:
    """Fork servers this test process started that still run (a sweep stops its own)."""
    found = []
    for p in psutil.Process().children():
        try:
            if "_forkserver.py" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except psutil.Error:
            continue
    return found
