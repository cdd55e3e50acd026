"""The dask executor on real `dask scheduler` and `dask worker` processes (not a LocalCluster):
preload honoured on the workers, a worker killed mid-sweep, a worker that lacks the folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from mlops_nb.main import main
from mlops_nb.store import runs as store
from mlops_nb.sweep.api import sweep
from tests import nbbuild as b
from tests.sweep.conftest import kernels_under

pytestmark = [pytest.mark.dask, pytest.mark.kernel, pytest.mark.slow]
pytest.importorskip("distributed")
DASK = str(Path(sys.executable).with_name("dask"))


def _wait_for(what: str, ready: Any, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout} s"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-thread workers (each a nanny + a worker process)."""
    from distributed import Client

    home = tmp_path_factory.mktemp("dask")
    info = home / "scheduler.json"
    logs: list[Any] = []
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> None:
        logs.append((home / f"{name}.log").open("w"))
        procs.append(
            subprocess.Popen(
                [DASK, *args],
                cwd=home,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=logs[-1],
            )
        )

    try:
        start(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--dashboard-address",
            "127.0.0.1:0",
            "--scheduler-file",
            str(info),
        )
        _wait_for("the scheduler file", info.is_file)
        for name in ("w1", "w2"):
            start(
                name,
                "worker",
                "--scheduler-file",
                str(info),
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--no-dashboard",
                "--name",
                name,
            )
        address = json.loads(info.read_text())["address"]
        with Client(address, timeout="30s", set_as_default=False) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        _stop(procs, logs)
    left = kernels_under(home)
    for proc in left:
        proc.kill()
    assert not left, f"fork servers or kernels left running: {[p.pid for p in left]}"


def _stop(procs: list[subprocess.Popen[bytes]], logs: list[Any]) -> None:
    """Stop the cluster's processes (their whole sessions), newest first; close their logs."""
    for p in reversed(procs):
        os.killpg(p.pid, signal.SIGTERM)
    for p in reversed(procs):
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    for f in logs:
        f.close()


def worker_pids(address: str) -> set[int]:
    from distributed import Client

    with Client(address, timeout="30s", set_as_default=False) as client:  # type: ignore[no-untyped-call]
        client.wait_for_workers(2, timeout=120)
        return set(client.run(os.getpid).values())


PROBE = (
    b.params("i = 0"),
    b.code(
        "import os, sys\n"
        "forked = '_forkserver.py' in open(f'/proc/{os.getppid()}/cmdline').read()\n"
        "preloaded = 'colorsys' in sys.modules"
    ),
    b.code(
        "import colorsys\nimport scrapbook as sb\nsb.glue('forked', forked)\n"
        "sb.glue('preloaded', preloaded)"
    ),
)


def test_workers_fork_kernels_with_the_sweeps_preload(
    cluster: str, no_kernels_left: Path, runs_dir: Path
) -> None:
    nb = b.write(no_kernels_left / "probe.ipynb", *PROBE)
    result = sweep(nb, {"i": [1, 2, 3, 4]}, executor="dask", scheduler=cluster, runs_dir=runs_dir)
    assert result.ok, result.entries
    recs = list(store.iter_records(runs_dir))
    assert len(recs) == 4
    assert all(r["scraps"] == {"forked": True, "preloaded": True} for r in recs)


def test_a_worker_killed_mid_run_its_set_reruns_elsewhere_exactly_once(
    cluster: str, no_kernels_left: Path, runs_dir: Path
) -> None:
    marker = no_kernels_left / "killed-worker"
    nb = b.write(
        no_kernels_left / "nb.ipynb",
        b.params(f"i = 0\nmarker = {str(marker)!r}"),
        b.code(
            "import os, psutil\n"
            "if i == 2 and not os.path.exists(marker):\n"
            "    # the dask worker process: the first ancestor that is not our fork server\n"
            "    worker = next(p for p in psutil.Process().parents()\n"
            "                  if '_forkserver.py' not in ' '.join(p.cmdline()))\n"
            "    open(marker, 'w').write(str(worker.pid))\n"
            "    worker.kill()\n"
            "    import time; time.sleep(600)  # never reached: the kernel goes with its worker"
        ),
        b.code("import scrapbook as sb\nsb.glue('i', i)"),
    )
    before = worker_pids(cluster)
    result = sweep(nb, {"i": [1, 2, 3]}, executor="dask", scheduler=cluster, runs_dir=runs_dir)
    killed = int(marker.read_text())
    assert killed in before
    assert result.ok, result.entries
    assert [e["status"] for e in result.entries] == ["ok", "ok", "ok"]
    recs = list(store.iter_records(runs_dir))
    ok = sorted(r["params"]["i"] for r in recs if r["status"] == "ok")
    assert ok == [1, 2, 3]  # each set ended once
    # the attempt on the killed worker never ended: its driver (the worker) is gone, so every
    # reader shows it `lost` (never `running` forever); nothing else ran it
    assert sorted(r["status"] for r in recs if r["params"]["i"] == 2) in (["ok"], ["lost", "ok"])
    # no kernel survives its worker: whatever still runs belongs to a live worker
    _wait_for("the killed worker's kernels to go", lambda: not orphans(no_kernels_left, before))
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE


def orphans(folder: Path, workers: set[int]) -> list[psutil.Process]:
    """Kernels under ``folder`` that no live dask worker process is an ancestor of."""
    alive = {pid for pid in workers if psutil.pid_exists(pid)}
    found = []
    for p in kernels_under(folder):
        try:
            if not alive & {a.pid for a in p.parents()}:
                found.append(p)
        except psutil.Error:
            continue
    return found


def test_a_worker_without_the_notebooks_folder_fails_the_set_with_one_clear_line(
    cluster: str, no_kernels_left: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = no_kernels_left / "proj"
    proj.mkdir()
    # The first set removes the notebook's folder: the worker that runs the next one lacks it,
    # as a worker without the shared filesystem would.
    nb = b.write(
        proj / "nb.ipynb",
        b.params("i = 0"),
        b.code("import os, shutil\nif i == 1:\n    shutil.rmtree(os.getcwd())"),
    )
    grid = no_kernels_left / "grid.yaml"
    grid.write_text("i: [1, 2]\n")
    argv = ["sweep", str(nb), "--grid", str(grid), "--executor", "dask", "--scheduler", cluster]
    code = main([*argv, "--workers", "1", "--quiet", "--runs-dir", str(runs_dir)])
    out = capsys.readouterr().out
    assert code == 1
    line = next(ln for ln in out.splitlines() if "i=2" in ln)
    assert "WorkerSetupError" in line
    assert f"has no folder {proj} (the notebook's folder)" in line
    assert "shared filesystem" in line and "Traceback" not in out


def test_a_task_run_again_after_its_run_ended_returns_that_run(
    no_kernels_left: Path, runs_dir: Path
) -> None:
    """dask runs a task again when its worker died after the run ended but before the result
    came back: the set must not run twice."""
    from mlops_nb.dask_adapter import run_on_worker
    from mlops_nb.execution import runner
    from mlops_nb.sweep.worker import Task, release_all

    nb = b.write(
        no_kernels_left / "nb.ipynb",
        b.params("i = 0"),
        b.code("import scrapbook as sb\nsb.glue('i', i)"),
    )
    runs_dir.mkdir()  # the sweep's driver makes it before any task
    spec = runner.prepare(nb, {"i": 5}, runs_dir=runs_dir, sweep_id="sw-x")
    task = Task(index=0, spec=spec, key=runner.key_of(spec), prewarm=False)
    since = store.utc_now()
    try:
        first = run_on_worker(task, since=since)
        again = run_on_worker(task, since=since)
        later = run_on_worker(task, since=store.utc_now())  # a new invocation runs it anew
    finally:
        release_all()
    assert first.status == "ok", first.error
    assert first.scraps == {"i": 5}
    assert again == first
    assert later.run_id != first.run_id
    assert len(list(store.iter_records(runs_dir))) == 2
