"""A fork server that cannot start says why; servers are shared per recipe and stopped at exit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlops_nb.errors import ForkServerError
from mlops_nb.kernels import forking


def test_a_python_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ForkServerError, match="cannot start"):
        forking.ForkServer(str(tmp_path / "no-python"))


def test_a_python_that_exits_at_once() -> None:
    server = forking.ForkServer("/bin/false")
    with pytest.raises(ForkServerError, match=r"could not start: it exited with status 1"):
        server.wait_ready()
    assert server.proc.returncode == 1


def test_a_python_that_never_gets_ready(tmp_path: Path) -> None:
    hangs = tmp_path / "python"
    hangs.write_text("#!/bin/sh\nexec sleep 60\n")
    hangs.chmod(0o755)
    server = forking.ForkServer(str(hangs), start_timeout=0.2)
    with pytest.raises(ForkServerError, match="did not start in time"):
        server.wait_ready()
    assert server.proc.returncode is not None  # killed, not left sleeping
    assert not Path(server.address).parent.exists()


def test_one_server_per_recipe_until_its_last_user_or_the_exit() -> None:
    server = forking.acquire(sys.executable)
    try:
        assert forking.acquire(sys.executable) is server and server.users == 2
        forking.release(server)
        assert server.alive()
    finally:
        forking.close_all()  # what process_hooks runs at exit
    assert not server.alive() and not forking._SERVERS
