"""SIGTERM to a sweep's process group ends it exactly as Ctrl-C does (review7 L4): every run in
flight recorded ``interrupted`` and named, no kernel killed behind its run's back ("still alive
after the run"), no traceback, no kernel process and no kernel socket or connection file left
in $TMPDIR; whatever each worker is doing (a run's cell, waiting for work with its next kernel
warming). SIGINT is the reference."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.store import runs as store
from tests import nbbuild as b
from tests.sweep.conftest import kernels_under, sweep_command

pytestmark = [pytest.mark.kernel, pytest.mark.slow]
SIGNALS = pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])


def _signal_the_group(
    folder: Path, runs_dir: Path, sig: int, sets: str, ready: Callable[[], bool]
) -> tuple[str, dict[str, dict[str, Any]]]:
    """Sweep ``sleep.ipynb`` (a set i >= 2 sleeps a minute) over ``sets`` with 2 workers; once
    ``ready()``, send ``sig`` to its process group. Its stdout and its records by id, after
    checking what every ending shares."""
    tmp = folder / "tmp"  # the sweep's $TMPDIR: kernel sockets and connection files go here
    tmp.mkdir()
    started = folder / "started"
    nb = b.write(
        folder / "sleep.ipynb",
        b.params("i = 0"),
        b.code(
            f"import pathlib, time\nif i >= 2:\n    pathlib.Path({str(started)!r}).touch()\n"
            "    time.sleep(60)"
        ),
    )
    grid = folder / "gs.yaml"
    grid.write_text(f"i: [{sets}]\n")
    proc = subprocess.Popen(
        sweep_command(nb, grid, "--workers", "2", "--runs-dir", str(runs_dir)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    deadline = time.monotonic() + 60
    while not (started.exists() and ready()):  # polling files the sweep writes
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sweep did not get there in 60 s"
        time.sleep(0.05)
    os.killpg(proc.pid, sig)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, err
    assert "still alive" not in err, err
    assert "Traceback" not in err and "worker failed" not in err, err
    recs = {r["id"]: r for r in store.iter_records(runs_dir)}
    swept = json.loads(next((runs_dir / "sweeps").glob("*.json")).read_text())
    assert swept["status"] == "interrupted"
    named = {e["run_id"]: e["status"] for e in swept["runs"] if e["status"] != "pending"}
    assert named == {run_id: r["status"] for run_id, r in recs.items()}  # record and runs agree
    assert sorted(p.name for p in tmp.iterdir()) == []
    assert not kernels_under(folder)
    return out, recs


@SIGNALS
def test_runs_in_their_cells(no_kernels_left: Path, runs_dir: Path, sig: int) -> None:
    out, recs = _signal_the_group(no_kernels_left, runs_dir, sig, "2, 3, 4, 5", lambda: True)
    assert recs and {r["status"] for r in recs.values()} == {"interrupted"}, recs
    for run_id in recs:
        assert f"interrupted {run_id}" in out, out


@SIGNALS
def test_a_worker_waiting_for_work(no_kernels_left: Path, runs_dir: Path, sig: int) -> None:
    """Set 1 is over (its worker waits, a kernel warming ahead); set 2 is in its cell."""

    def one_done() -> bool:
        return any(r["status"] == "ok" for r in store.iter_records(runs_dir))

    out, recs = _signal_the_group(no_kernels_left, runs_dir, sig, "1, 2", one_done)
    by_set = {r["params"]["i"]: (r["status"], run_id) for run_id, r in recs.items()}
    assert {i: status for i, (status, _) in by_set.items()} == {1: "ok", 2: "interrupted"}
    assert f"interrupted {by_set[2][1]}" in out, out
