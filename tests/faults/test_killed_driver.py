"""Issue 19, fault 3: killed drivers. Workers and servers die with their driver, in-flight runs
read as ``lost`` (the driver named as the cause) for every reader, the next sweep settles and
resumes them (each set done once), and stale socket files are removed by whoever comes next."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

from mlops_nb.sweep import record
from tests.faults.conftest import (
    assert_clean_store,
    collected,
    descendants,
    gone,
    mlops,
    notebook,
    records,
    stale_sockets,
    wait_for,
)

pytestmark = [pytest.mark.kernel, pytest.mark.slow]
SLEEPY = "import os, time\ntime.sleep(float(os.environ.get('FAULT_SLEEP', '0')))\nprint(i)"


def _start_sweep(nb: Path, grid: Path, runs: Path, sleep: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "mlops_nb", "sweep", str(nb), "--grid", str(grid)]
    cmd += ["--runs-dir", str(runs), "--workers", "2"]
    env = {**os.environ, "FAULT_SLEEP": sleep}
    return subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def _running(runs: Path, n: int) -> bool:
    return sum(1 for r in records(runs) if r["status"] == "running") >= n


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    nb = notebook(tmp_path / "sleepy.ipynb", "i = 0", SLEEPY)
    grid = tmp_path / "grid.yaml"
    grid.write_text(json.dumps({"i": [0, 1, 2, 3]}))
    return nb, grid, tmp_path / "runs"


def _resume_completes_each_set_once(nb: Path, grid: Path, runs: Path) -> None:
    done = mlops(
        "sweep", str(nb), "--grid", str(grid), "--runs-dir", str(runs), env={"FAULT_SLEEP": "0"}
    )
    assert done.returncode == 0, done.stderr
    rows = collected(runs)
    assert sorted(r["params.i"] for r in rows if r["status"] == "ok") == [0, 1, 2, 3]
    assert not [r for r in rows if r["status"] == "running"]
    raw = [r["status"] for r in records(runs)]  # the lost runs were written down as such
    assert "running" not in raw and "lost" in raw
    assert_clean_store(runs)


@pytest.mark.parametrize("target", ["driver", "group"])
def test_sigkill(tmp_path: Path, target: str) -> None:
    nb, grid, runs = _setup(tmp_path)
    proc = _start_sweep(nb, grid, runs, sleep="120")
    try:
        wait_for(lambda: _running(runs, 2), timeout=120, what="two runs in flight")
        tree = descendants(proc.pid)
        assert tree, "the sweep has no worker processes"
        if target == "driver":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # workers, fork server and kernels all go with the driver: no orphans
        assert gone(tree) == []
    finally:
        if proc.poll() is None:
            proc.kill()
    lost = [r for r in collected(runs) if r["status"] != "ok"]
    assert len(lost) == 2 and {r["status"] for r in lost} == {"lost"}
    errors = " ".join(str(r["error"]) for r in lost)
    assert "kernel died" not in errors and ("driver" in errors or "driving" in errors)
    (sid,) = [p.stem for p in (runs / "sweeps").glob("*.json")]
    rec = record.read(runs, sid)
    assert rec is not None and rec["status"] == "lost"
    # its sets name their runs, though the driver was killed before it could write them
    named = {e["run_id"]: e["status"] for e in rec["runs"] if e["run_id"]}
    assert named == {r["id"]: "lost" for r in lost}
    # every reader: show, and the Python API
    first = lost[0]["id"]
    shown = mlops("show", first, "--runs-dir", str(runs), "--json")
    assert json.loads(shown.stdout)["status"] == "lost"

    dead = [p.pid for p in tree]
    _resume_completes_each_set_once(nb, grid, runs)
    assert stale_sockets(dead) == []  # cleaned up by whoever came next


def test_sigkill_single_run_reads_as_lost(tmp_path: Path) -> None:
    nb = notebook(tmp_path / "sleepy.ipynb", "i = 0", SLEEPY)
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "mlops_nb", "run", str(nb), "--runs-dir", str(runs)]
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, "FAULT_SLEEP": "120"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _running(runs, 1), timeout=60, what="the run to start")
        tree = descendants(proc.pid)
        tmp = Path(tempfile.gettempdir())
        wait_for(
            lambda: bool(list(tmp.glob(f"mlops-nb-{proc.pid}-*-kernel.json"))),
            timeout=60,
            what="the kernel's connection file",
        )
        (conn,) = tmp.glob(f"mlops-nb-{proc.pid}-*-kernel.json")  # by the kernel's sockets
        assert conn.stat().st_mode & 0o777 == 0o600  # it holds the kernel's key
        proc.kill()
        proc.wait(10)
        assert gone(tree) == []  # the kernel follows its driver (ipykernel's parent poller)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert conn.exists()  # SIGKILL: nobody removed it
    mlops("run", str(nb), "--runs-dir", str(runs), env={"FAULT_SLEEP": "0"})
    assert not conn.exists()  # the next process that starts a kernel did
    lost = [r for r in collected(runs) if r["status"] != "ok"]
    assert [r["status"] for r in lost] == ["lost"]
    assert [r["status"] for r in collected(runs, "--status", "lost")] == ["lost"]
    assert psutil.pid_exists(proc.pid) is False


def test_sigkill_pipeline_then_rerun_resumes(tmp_path: Path) -> None:
    notebook(tmp_path / "step.ipynb", "i = 0", SLEEPY)
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text("name: p\nsteps:\n  a:\n    notebook: step.ipynb\n    params: {i: 1}\n")
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "mlops_nb", "pipeline", "run", str(pipeline)]
    cmd += ["--runs-dir", str(runs)]
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, "FAULT_SLEEP": "120"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _running(runs, 1), timeout=60, what="the step to start")
        tree = descendants(proc.pid)
        os.killpg(proc.pid, 9)
        proc.wait(10)
        assert gone(tree) == []
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [r["status"] for r in collected(runs)] == ["lost"]
    again = mlops(
        "pipeline", "run", str(pipeline), "--runs-dir", str(runs), env={"FAULT_SLEEP": "0"}
    )
    assert again.returncode == 0, again.stderr  # the lock went with the killed driver
    assert sorted(r["status"] for r in records(runs)) == ["lost", "ok"]  # written down, re-run
    assert_clean_store(runs)
