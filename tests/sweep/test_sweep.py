"""Sweeps with real kernels: outcomes, isolation, resume, retries, pre-warming, progress, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import mlops_nb
from mlops_nb.main import main
from mlops_nb.store import runs as store
from mlops_nb.sweep.api import Sweep, sweep
from tests import nbbuild as b
from tests.sweep.conftest import kernels_under, sweep_command

pytestmark = pytest.mark.kernel

MODES = b.notebook(
    b.params("mode = 'ok'\nmarker = ''"),
    b.code(
        "import os, time\n"
        "if mode == 'fail':\n    raise ValueError('boom ' + mode)\n"
        "if mode == 'die':\n    os._exit(1)\n"
        "if mode == 'sleep':\n    time.sleep(60)\n"
        "if mode == 'die-once' and not os.path.exists(marker):\n"
        "    open(marker, 'w').close()\n    os._exit(1)\n"
        "print('done', mode)"
    ),
)


def write_modes(folder: Path) -> Path:
    return b.write(folder / "modes.ipynb", *MODES["cells"])


def records(runs_dir: Path) -> list[dict[str, Any]]:
    return list(store.iter_records(runs_dir))


def test_mixed_outcomes_in_one_sweep(no_kernels_left: Path, runs_dir: Path) -> None:
    nb = write_modes(no_kernels_left)
    result = sweep(
        nb, {"mode": ["ok", "fail", "die", "sleep"]}, workers=2, timeout=5, runs_dir=runs_dir
    )
    assert result.status == "failed"
    by_mode = {e["params"]["mode"]: e for e in result.entries}
    assert by_mode["ok"]["status"] == "ok"
    assert by_mode["fail"]["status"] == "failed"
    assert by_mode["fail"]["error"] == "ValueError: boom fail in cell 2"
    assert by_mode["die"]["status"] == "failed"
    assert by_mode["die"]["error"].startswith("DeadKernelError")
    assert by_mode["sleep"]["status"] == "timeout"
    recs = records(runs_dir)
    assert len(recs) == 4
    assert {r["sweep_id"] for r in recs} == {result.id}
    saved = json.loads(result.path.read_text())
    assert saved["id"] == result.id
    assert [e["run_id"] for e in saved["runs"]] == [e["run_id"] for e in result.entries]
    assert saved["counts"] == {"ok": 1, "failed": 2, "timeout": 1}


def test_resume_skips_done_sets_and_force_reruns(no_kernels_left: Path, runs_dir: Path) -> None:
    nb = write_modes(no_kernels_left)
    grid = {"mode": ["ok", "fail"]}
    first = sweep(nb, grid, workers=2, runs_dir=runs_dir)
    assert first.counts == {"ok": 1, "failed": 1}
    again = sweep(nb, grid, workers=2, runs_dir=runs_dir)
    assert again.id == first.id
    assert again.record["invocations"] == 2
    ok_again = [e for e in again.entries if e["status"] == "ok"]
    assert all(e["resumed"] for e in ok_again)
    assert {e["run_id"] for e in ok_again} == {
        e["run_id"] for e in first.entries if e["status"] == "ok"
    }
    assert len(records(runs_dir)) == 3  # only the failed set ran again
    sweep(nb, grid, workers=2, runs_dir=runs_dir, force=True)
    assert len(records(runs_dir)) == 5


def test_retries_rerun_a_kernel_death_not_a_cell_error(
    no_kernels_left: Path, runs_dir: Path
) -> None:
    nb = write_modes(no_kernels_left)
    sets = [
        {"mode": "die-once", "marker": str(no_kernels_left / "m1")},
        {"mode": "fail"},
    ]
    result = sweep(nb, sets=sets, workers=2, retries=2, runs_dir=runs_dir)
    died, failed = result.entries
    assert died["status"] == "ok"
    assert len(died["attempts"]) == 2
    first = store.read_record(runs_dir / died["attempts"][0])
    assert first["error"]["ename"] == "DeadKernelError"
    assert failed["status"] == "failed"
    assert len(failed["attempts"]) == 1


def test_preload_imports_into_a_fresh_kernel_without_leaking(
    no_kernels_left: Path, runs_dir: Path
) -> None:
    nb = b.write(
        no_kernels_left / "probe.ipynb",
        b.params("i = 0"),
        b.code("import sys\nprint('wave' in sys.modules, 'mine' in globals())"),
        b.code("mine = i"),
    )
    result = sweep(nb, {"i": [1, 2, 3]}, workers=2, preload="wave", runs_dir=runs_dir)
    assert result.ok
    for run in result.runs:
        out = json.loads(run.output_notebook.read_text())
        code = [c for c in out["cells"] if c["cell_type"] == "code"]
        assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
        assert "".join(code[-2]["outputs"][0]["text"]) == "True False\n"


def test_cli_non_terminal_progress_and_summary(
    no_kernels_left: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = write_modes(no_kernels_left)
    lst = no_kernels_left / "sets.csv"
    lst.write_text("mode\nok\nfail\n")
    code = main(
        ["sweep", str(nb), "--list", str(lst), "--executor", "serial", "--runs-dir", str(runs_dir)]
    )
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.err.splitlines()
    assert lines[0].startswith("[1/2] ok ")
    assert "mode='ok'" in lines[0]
    assert lines[1].startswith("[2/2] failed ")
    assert lines[1].endswith("ValueError: boom fail in cell 2")
    assert "2 sets: 1 failed, 1 ok" in captured.out
    assert "not ok:" in captured.out
    code = main(
        [
            "sweep",
            str(nb),
            "--list",
            str(lst),
            "--executor",
            "serial",
            "--quiet",
            "--runs-dir",
            str(runs_dir),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err == ""
    assert json.loads(captured.out)["invocations"] == 2


def test_invalid_sets_fail_before_any_kernel(
    no_kernels_left: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = write_modes(no_kernels_left)
    grid = no_kernels_left / "grid.yaml"
    grid.write_text("mode: [ok, fail]\nmood: [1]\n")
    assert main(["sweep", str(nb), "--grid", str(grid), "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert "2 of 2 parameter sets are invalid" in err
    assert "unknown parameter 'mood'" in err
    assert not runs_dir.exists()


def test_package_level_api_and_dataframe(no_kernels_left: Path, runs_dir: Path) -> None:
    nb = write_modes(no_kernels_left)
    result = mlops_nb.sweep(nb, {"mode": ["ok"]}, executor="serial", runs_dir=runs_dir)
    assert isinstance(result, mlops_nb.Sweep)
    assert mlops_nb.sweep(nb, {"mode": ["ok"]}, executor="serial", runs_dir=runs_dir).ok
    df = Sweep.load(result.id, runs_dir=runs_dir).to_dataframe()
    assert list(df["status"]) == ["ok"]
    assert list(df["param.mode"]) == ["ok"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["ctrl-c-to-process-group", "sigterm-to-parent", "sigterm-to-process-group"],
)
def test_interrupt_then_resume_runs_each_set_once(
    no_kernels_left: Path, runs_dir: Path, sig: int, group: bool
) -> None:
    folder = no_kernels_left
    started = folder / "started"  # a run's cell is executing once this exists
    nb = b.write(
        folder / "slow.ipynb",
        b.params("i = 0\nsecs = 1.5"),
        b.code(
            f"import pathlib, time\npathlib.Path({str(started)!r}).touch()\ntime.sleep(secs)\nprint(i)"
        ),
    )
    grid = folder / "grid.yaml"
    grid.write_text("i: [1, 2, 3, 4, 5, 6]\n")
    cmd = sweep_command(nb, grid, "--workers", "2", "--runs-dir", str(runs_dir))
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while not started.exists():  # poll until a run's cell is executing
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no run started in 60 s"
        time.sleep(0.1)
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "[interrupted]" in out
    statuses = [r["status"] for r in records(runs_dir)]
    assert "interrupted" in statuses
    assert "running" not in statuses
    assert not kernels_under(folder)
    sweep_file = next((runs_dir / "sweeps").glob("*.json"))
    swept = json.loads(sweep_file.read_text())
    assert swept["status"] == "interrupted"
    # the record and the runs agree: every set that ran names its run, with the run's status
    by_id = {r["id"]: r["status"] for r in records(runs_dir)}
    ran = [e for e in swept["runs"] if e["status"] != "pending"]
    assert ran, swept["runs"]
    assert all(by_id.get(e["run_id"]) == e["status"] for e in ran), (swept["runs"], by_id)
    assert "Traceback" not in err, err
    assert not list((runs_dir / "sweeps").glob("*.stop"))

    again = subprocess.run([*cmd, "--quiet"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    ok = [r for r in records(runs_dir) if r["status"] == "ok"]
    assert sorted(r["params"]["i"] for r in ok) == [1, 2, 3, 4, 5, 6]  # each exactly once


def test_fail_fast_stops_launching_after_the_first_failure(
    no_kernels_left: Path, runs_dir: Path
) -> None:
    nb = write_modes(no_kernels_left)
    sets = [{"mode": "fail"}, {"mode": "ok"}, {"mode": "ok", "marker": "x"}]
    result = sweep(nb, sets=sets, executor="serial", fail_fast=True, runs_dir=runs_dir)
    assert [e["status"] for e in result.entries] == ["failed", "pending", "pending"]
    assert result.status == "failed"
    assert len(records(runs_dir)) == 1
