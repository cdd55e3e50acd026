"""The README's main job: the example pipeline in notebooks/, end to end, twice."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def test_example_pipeline_runs_then_skips(tmp_path: Path) -> None:
    project = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", project, ignore=shutil.ignore_patterns("runs", ".*"))
    runs = tmp_path / "runs"
    cmd = [
        sys.executable,
        "-m",
        "mlops_nb",
        "pipeline",
        "run",
        str(project / "pipeline.yaml"),
        "--runs-dir",
        str(runs),
    ]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    for step in ("eda", "train", "evaluate", "monitor", "report"):
        assert f"  {step} " in out
    assert "5 ran" in out
    assert "best of 4 runs by f1 (max)" in out
    report = runs / "report.html"
    assert report.is_file()
    assert str(report) in out

    records = [json.loads(p.read_text()) for p in runs.glob("*/run.json")]
    by_step: dict[str, list[dict]] = {}
    for rec in records:
        by_step.setdefault(rec["pipeline"]["step"], []).append(rec)
    assert len(by_step["train"]) == 4
    (evaluate,) = by_step["evaluate"]
    assert evaluate["status"] == "ok"
    assert evaluate["scraps"]["f1"] > evaluate["scraps"]["baseline_f1"] + 0.3
    (monitor,) = by_step["monitor"]
    assert monitor["scraps"]["drift_detected"] is True

    second = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "5 skipped" in second.stdout
    assert len(list(runs.glob("*/run.json"))) == len(records)  # nothing ran again
