"""The kernel machinery's fallbacks: what it does when a kernel, a signal or a server fails."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from mlops_nb.errors import KernelStartFailed
from mlops_nb.kernels import fork_source, killer, prewarm, watch
from mlops_nb.kernels.prewarm import KernelRecipe, Prewarmer


def _spec(python: str) -> types.SimpleNamespace:
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    return types.SimpleNamespace(argv=argv, metadata={}, env={})


def test_a_watch_without_a_kernel_does_nothing() -> None:
    w = watch.KernelWatch()
    w.kill()
    w.sample()
    assert not w.alive()
    assert w.resources() == {"peak_rss_bytes": None, "cpu_seconds": None}


def test_a_kernel_without_a_group_of_its_own_is_still_signalled() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        w = watch.KernelWatch()
        w.attach(child.pid)  # not a group leader: killpg finds no group, kill does it
        w.kill()
        assert child.wait(30) == -9
        assert watch._read_proc(child.pid) == (None, None)  # reaped: nothing to read
    finally:
        child.kill()


def test_killing_a_manager_that_never_started_is_harmless() -> None:
    killer.kill_kernel(types.SimpleNamespace())
    assert killer.kernel_pid(types.SimpleNamespace(provisioner=None)) is None


def test_a_spec_that_cannot_be_forked_gets_no_server(tmp_path: Path) -> None:
    source = fork_source.ForkSource(KernelRecipe(cwd=tmp_path, fork=True))
    other = types.SimpleNamespace(argv=["R", "-f", "{connection_file}"], metadata={}, env={})
    assert source.server(other) is None
    assert fork_source.prestart_fork_server("no-such-kernel", (), tmp_path) is None


def test_a_server_that_fails_is_warned_about_once_and_not_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fork_source, "_FORK_FAILED", set())
    source = fork_source.ForkSource(KernelRecipe(cwd=tmp_path, fork=True))
    with caplog.at_level(logging.WARNING, logger="mlops_nb.kernels.fork_source"):
        assert source.server(_spec("/bin/false")) is None
        assert source.server(_spec("/bin/false")) is None
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1 and warned[0].startswith("cannot fork kernels (the fork server could")
    source.close()
    assert source.server(_spec(sys.executable)) is None  # closed


def test_a_preload_that_fails_in_the_template_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fork_source, "_PRELOAD_WARNED", set())
    recipe = KernelRecipe(cwd=tmp_path, preload=("no_such_module_for_a_test",), fork=True)
    source = fork_source.ForkSource(recipe)
    try:
        with caplog.at_level(logging.WARNING, logger="mlops_nb.kernels.fork_source"):
            server = source.server(KernelSpecManager().get_kernel_spec("python3"))
        assert server is not None and "no_such_module_for_a_test" in server.preload_failed
        assert [r.getMessage().split(":")[0] for r in caplog.records] == [
            "--preload no_such_module_for_a_test failed in the kernel"
        ]
    finally:
        source.close()


def test_a_warm_kernel_whose_fork_server_died_is_not_handed_over(tmp_path: Path) -> None:
    # ipykernel's parent poller would end it within a second, in the middle of the next run
    warm = Prewarmer(KernelRecipe(cwd=tmp_path, fork=True))
    try:
        warm.warm()
        assert warm._next is not None
        km = warm._next.result(60)
        assert km.fork_server is not None and km.alive()
        km.fork_server.proc.kill()
        km.fork_server.proc.wait(30)
        with pytest.raises(KernelStartFailed, match="fork server died"):
            warm.take(ahead=False)
        deadline = time.monotonic() + 30  # killed; its pid goes once it is reaped
        while km.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not km.alive()
    finally:
        warm.close()


def test_a_warm_kernel_that_died_while_waiting_is_not_handed_over(tmp_path: Path) -> None:
    warm = Prewarmer(KernelRecipe(cwd=tmp_path, fork=True))
    try:
        warm.warm()
        assert warm._next is not None
        km = warm._next.result(60)
        killer.kill_kernel(km)
        process = getattr(km.provisioner, "process", None)
        assert process is not None
        assert process.wait(30) == -9  # the fork server saw it die
        with pytest.raises(KernelStartFailed, match="died while waiting"):
            warm.take(ahead=False)
    finally:
        warm.close()
    with pytest.raises(KernelStartFailed, match="closed"):
        warm.take()
    assert not prewarm._LIVE or warm not in prewarm._LIVE
