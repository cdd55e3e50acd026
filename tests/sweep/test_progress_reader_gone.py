"""A sweep whose progress reader goes away (``2>&1 | head -1``) still runs every set, and its
exit code still tells whether they all succeeded (review6 item 1)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests import nbbuild as b
from tests.sweep.conftest import sweep_command

pytestmark = pytest.mark.kernel


@pytest.mark.parametrize(("bad", "code"), [(99, 0), (2, 1)], ids=["all-ok", "one-fails"])
def test_every_set_runs_after_the_reader_of_the_progress_left(
    tmp_path: Path, bad: int, code: int
) -> None:
    nb = b.write(
        tmp_path / "nb.ipynb",
        b.params("i = 0"),
        b.code(f"import time\ntime.sleep(0.3)\nassert i != {bad}"),
    )
    (tmp_path / "grid.yaml").write_text("i: [0, 1, 2, 3, 4]\n")
    runs = tmp_path / "runs"
    cmd = sweep_command(nb, tmp_path / "grid.yaml")
    proc = subprocess.Popen(
        [*cmd, "--runs-dir", str(runs), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # the first progress line, then the reader goes away
    proc.stdout.close()
    assert proc.wait(120) == code
    statuses = sorted(json.loads(p.read_text())["status"] for p in runs.glob("*/run.json"))
    assert statuses == (["ok"] * 5 if code == 0 else ["failed"] + ["ok"] * 4)
