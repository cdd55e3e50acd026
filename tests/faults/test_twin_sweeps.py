"""Issue 19, fault 4: the same sweep started twice at once never runs a set twice: the second
invocation refuses with one line while the first runs, and resumes nothing twice afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.conftest import collected, mlops, notebook, one_line_error, records, wait_for

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def test_second_invocation_refuses_while_the_first_runs(tmp_path: Path) -> None:
    nb = notebook(
        tmp_path / "slow.ipynb",
        "i = 0",
        # a run of the first sweep holds until the test opens the gate (no race with a sleep)
        "import os, time\ngate = os.environ.get('FAULT_GATE')\nend = time.monotonic() + 240\n"
        "while gate and not os.path.exists(gate) and time.monotonic() < end:\n"
        "    time.sleep(0.05)",
    )
    gate = tmp_path / "gate"
    grid = tmp_path / "grid.yaml"
    grid.write_text(json.dumps({"i": list(range(4))}))
    runs = tmp_path / "runs"
    args = ["sweep", str(nb), "--grid", str(grid), "--runs-dir", str(runs), "--workers", "2"]
    first = subprocess.Popen(
        [sys.executable, "-m", "mlops_nb", *args],
        env={**os.environ, "FAULT_GATE": str(gate)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: any(r["status"] == "running" for r in records(runs)), 120, "first sweep")
        second = mlops(*args)
        assert second.returncode == 2, second.stderr
        one_line_error(second, "already running", f"pid {first.pid}")
        gate.touch()
        _, err = first.communicate(timeout=240)
        assert first.returncode == 0, err
    finally:
        gate.touch()
        if first.poll() is None:
            first.kill()
            first.communicate()
    third = mlops(*args)  # afterwards: everything is resumed
    assert third.returncode == 0, third.stderr
    rows = collected(runs)
    assert sorted(r["params.i"] for r in rows) == list(range(4))  # each set ran exactly once
    assert {r["status"] for r in rows} == {"ok"}
