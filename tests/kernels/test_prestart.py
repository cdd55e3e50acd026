"""A sweep's fork server starts before the kernel spec is looked up when the kernel is the usual
``python3``; a ``python3`` spec that names another Python gets that Python's server instead, and
the early one is stopped."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mlops_nb.kernels import fork_source, forking
from tests.sweep.conftest import fork_servers

pytestmark = pytest.mark.kernel


def test_the_usual_kernel_gets_this_pythons_server(no_kernels_left: Path) -> None:
    server = fork_source.prestart_fork_server("python3", ("colorsys",), no_kernels_left)
    assert server is not None
    try:
        assert (server.python, server.preload) == (sys.executable, ("colorsys",))
        server.wait_ready()
        assert [p.pid for p in fork_servers()] == [server.proc.pid]
    finally:
        forking.release(server)


def _python3_spec(
    folder: Path, monkeypatch: pytest.MonkeyPatch, python: str, **more: object
) -> None:
    spec = folder / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python", **more})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(folder / "jupyter"))


def test_a_python3_spec_naming_another_python_replaces_the_early_server(
    no_kernels_left: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another Python: a wrapper script (a symlink to a venv's python would lose its venv).
    other = no_kernels_left / "other-python"
    other.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    other.chmod(0o755)
    _python3_spec(no_kernels_left, monkeypatch, str(other))
    server = fork_source.prestart_fork_server("python3", (), no_kernels_left)
    assert server is not None
    try:
        assert server.python == str(other)
        server.wait_ready()
        # the server started early for this Python is gone; only the spec's one runs
        assert [p.pid for p in fork_servers()] == [server.proc.pid]
    finally:
        forking.release(server)


@pytest.mark.parametrize(
    ("python", "more"),
    [
        (sys.executable, {"env": {"MLOPS_NB_X": "1"}}),  # variables a template would not see
        ("/nonexistent/python3", {}),  # a server that cannot start
    ],
    ids=["spec-with-env", "python-missing"],
)
def test_a_python3_spec_that_cannot_be_forked_stops_the_early_server(
    no_kernels_left: Path, monkeypatch: pytest.MonkeyPatch, python: str, more: dict[str, object]
) -> None:
    _python3_spec(no_kernels_left, monkeypatch, python, **more)
    assert fork_source.prestart_fork_server("python3", (), no_kernels_left) is None
    assert fork_servers() == []


def test_another_kernel_name_starts_no_early_server(
    no_kernels_left: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_PATH", str(no_kernels_left / "jupyter"))
    assert fork_source.prestart_fork_server("no-such-kernel", (), no_kernels_left) is None
    assert fork_servers() == []
