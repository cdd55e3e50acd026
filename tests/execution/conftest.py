from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest


def kernel_children() -> set[int]:
    """ipykernel processes started by this test process (other sessions may run kernels too)."""
    out = set()
    for p in psutil.Process().children(recursive=True):
        try:
            cmd = " ".join(p.cmdline())
            zombie = p.status() == psutil.STATUS_ZOMBIE
        except psutil.Error:
            continue
        if "ipykernel_launcher" in cmd and not zombie:
            out.add(p.pid)
    return out


@pytest.fixture
def no_new_kernels() -> Iterator[None]:
    """Fails the test if a kernel started during it is still alive afterwards."""
    before = kernel_children()
    yield
    leftover = kernel_children() - before
    assert not leftover, f"kernel processes left alive: {leftover}"


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a folder read-only, also for root (immutable attribute or a read-only bind mount)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0:
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        return
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)
