"""SIGTERM to a sweep's process group ends it exactly as Ctrl-C does (review7 L4): every run in
flight recorded ``interrupted`` and named, no kernel killed behind its run's back ("still alive
after the run"), no kernel process and no kernel socket or connection file left in $TMPDIR."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from mlops_nb.store import runs as store
from tests import nbbuild as b
from tests.sweep.conftest import kernels_under, sweep_command

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_group_leaves_nothing_behind(
    no_kernels_left: Path, runs_dir: Path, sig: int
) -> None:
    folder = no_kernels_left
    tmp = folder / "tmp"  # the sweep's $TMPDIR: kernel sockets and connection files go here
    tmp.mkdir()
    started = folder / "started"
    nb = b.write(
        folder / "sleep.ipynb",
        b.params("i = 0"),
        b.code(f"import pathlib, time\npathlib.Path({str(started)!r}).touch()\ntime.sleep(60)"),
    )
    grid = folder / "gs.yaml"
    grid.write_text("i: [1, 2, 3, 4]\n")
    proc = subprocess.Popen(
        sweep_command(nb, grid, "--workers", "2", "--runs-dir", str(runs_dir)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    deadline = time.monotonic() + 60
    while not started.exists():  # a run's cell is executing (and the next kernel warming)
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no run started in 60 s"
        time.sleep(0.05)
    os.killpg(proc.pid, sig)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, err
    assert "still alive" not in err, err
    assert "Traceback" not in err, err
    recs = {r["id"]: r for r in store.iter_records(runs_dir)}
    assert recs and {r["status"] for r in recs.values()} == {"interrupted"}, recs
    for run_id in recs:
        assert f"interrupted {run_id}" in out, out
    swept = json.loads(next((runs_dir / "sweeps").glob("*.json")).read_text())
    assert swept["status"] == "interrupted"
    named = {e["run_id"]: e["status"] for e in swept["runs"] if e["status"] != "pending"}
    assert named == dict.fromkeys(recs, "interrupted")
    assert sorted(p.name for p in tmp.iterdir()) == []
    assert not kernels_under(folder)
