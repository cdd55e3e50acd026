"""The README's main job: the example loop in notebooks/, end to end, in its three commands.

1. `pipeline run`: no champion yet, so the first evaluated model becomes champion and live;
   a second invocation skips every step.
2. `run monitor.ipynb` on a new (drifted) production batch with `registry:rare_events@live`: alarm.
3. `pipeline run --force train`: the retrained model is the challenger, compared in shadow with
   the champion, and the gate promotes it or not (its rule, on the shadow's scraps, decides).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

STEPS = ("eda", "train", "evaluate", "register", "shadow", "promote", "monitor", "report")


def _records(runs: Path) -> dict[str, list[dict[str, Any]]]:
    by_step: dict[str, list[dict[str, Any]]] = {}
    for p in sorted(runs.glob("*/run.json")):
        rec = json.loads(p.read_text())
        step = (rec.get("pipeline") or {}).get("step", "-")
        by_step.setdefault(step, []).append(rec)
    return by_step


def _cli(*argv: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mlops_nb", *argv],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_loop_in_three_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlops_nb.registry import api

    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".*"))
    runs = tmp_path / "runs"
    monkeypatch.setenv("MLOPS_NB_RUNS_DIR", str(runs))

    # 1. the first run: no champion yet, the evaluated model is promoted
    out = _cli("pipeline", "run", cwd=tmp_path)
    for step in STEPS:
        assert f"  {step} " in out
    assert "8 ran" in out and "best of 4 runs by f1 (max)" in out
    assert "promoted rare_events v1 -> challenger" in out
    assert "has_champion=False" in out
    assert "promoted rare_events v1 -> champion, live" in out
    assert (runs / "report.html").is_file()
    first = _records(runs)
    doc = api.load(runs, "rare_events")
    assert doc["aliases"] == {"challenger": 1, "champion": 1, "live": 1}
    assert doc["versions"][0]["run_id"] in {r["id"] for r in first["train"]}
    (shadow,) = first["shadow"]
    assert shadow["registry"]["champion"]["version"] is None
    assert shadow["registry"]["challenger"]["version"] == 1
    (monitor,) = first["monitor"]
    assert monitor["registry"]["model_dir"]["run_id"] == doc["versions"][0]["run_id"]
    assert monitor["scraps"]["drift_detected"] is False  # same distribution as training
    assert first["evaluate"][0]["scraps"]["f1"] > first["evaluate"][0]["scraps"]["baseline_f1"]
    assert "8 skipped" in _cli("pipeline", "run", cwd=tmp_path)
    assert _records(runs).keys() == first.keys() and len(list(runs.glob("*/run.json"))) == sum(
        len(v) for v in first.values()
    )

    # 2. a new production batch, scored by the live model: the drift alarm
    out = _cli(
        "run",
        "notebooks/monitor.ipynb",
        "-p",
        "current",
        "builtin:rare_events_drifted",
        "-p",
        "model_dir",
        "registry:rare_events@live",
        "--json",
        cwd=tmp_path,
    )
    alarm = json.loads(out)
    assert alarm["scraps"]["drift_detected"] is True
    assert alarm["registry"]["model_dir"]["version"] == 1

    # 3. retrain: the new model is the challenger, shadowed against the champion, gated
    out = _cli("pipeline", "run", "--force", "train", cwd=tmp_path)
    assert "eda       skipped" in out
    assert "promoted rare_events v2 -> challenger" in out
    second = _records(runs)
    assert len(second["train"]) == 8  # the forced sweep re-ran its runs
    shadow = second["shadow"][-1]
    assert shadow["scraps"]["has_champion"] is True
    assert shadow["registry"]["champion"]["version"] == 1
    assert shadow["registry"]["challenger"]["version"] == 2
    gate_dirs = sorted((runs / "pipelines" / "example" / "gates").glob("*-promote"))
    decision = json.loads((gate_dirs[-1] / "gate.json").read_text())
    better = shadow["scraps"]["delta_f1_low"] > 0
    assert decision["passed"] is better
    # a gate that keeps the champion holds monitor back (the live model did not change);
    # the report still runs
    assert ("7 ran" if better else "6 ran, 1 held") in out
    if not better:
        assert "monitor   held      gate promote is closed: not promoted (rule is false)" in out
    assert decision["values"]["shadow.delta_f1_low"] == shadow["scraps"]["delta_f1_low"]
    doc = api.load(runs, "rare_events")
    assert doc["aliases"]["challenger"] == 2
    assert doc["aliases"]["champion"] == doc["aliases"]["live"] == (2 if better else 1)
    shown = _cli("registry", "show", "rare_events", cwd=tmp_path)
    assert "champion none -> v1, live none -> v1" in shown
