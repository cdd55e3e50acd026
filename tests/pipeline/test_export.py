"""`pipeline export --format kfp|argo`: compiled by the real kfp SDK, validated by hera.

Runs in tests/integrations.py's ``repro`` environment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mlops_nb.main import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "notebooks" / "pipeline.yaml"


def _export(tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / f"example.{fmt}.yaml"
    argv = ["pipeline", "export", str(EXAMPLE), "--format", fmt, "-o", str(out), *extra]
    assert main(argv) == 0
    return out


@pytest.mark.kfp
def test_kfp_ir_tasks_wiring_fan_out_and_resources(tmp_path: Path) -> None:
    from kfp import components

    out = _export(
        tmp_path,
        "kfp",
        "--image",
        "registry.example/mlops:1",
        "--resources",
        "train:cpu=2,memory=4G",
    )
    ir = yaml.safe_load(out.read_text())
    assert ir["pipelineInfo"]["name"] == "example"
    tasks = ir["root"]["dag"]["tasks"]
    names = {t["taskInfo"]["name"] for t in tasks.values()}
    assert {"eda", "train", "evaluate", "monitor", "report"} <= names
    # the grid: a parallel fan-out over the 4 combinations, feeding a fan-in selection
    loop = next(t for t in tasks.values() if "parameterIterator" in t)
    items = json.loads(loop["parameterIterator"]["items"]["raw"])
    assert len(items) == 4
    assert {"model": "random_forest", "class_weight": "none"} in items
    assert loop["dependentTasks"] == ["eda"]
    select = next(k for k, t in tasks.items() if t["taskInfo"]["name"] == "train")
    wired = tasks[select]["inputs"]["artifacts"]
    assert {w["taskOutputArtifact"]["producerTask"] for w in wired.values()} == {
        next(k for k, t in tasks.items() if "parameterIterator" in t)
    }
    # upstream run folders are artifacts: evaluate consumes the selected model folder
    ev = tasks["evaluate"]["inputs"]["artifacts"]["upstream_train"]["taskOutputArtifact"]
    assert ev == {"outputArtifactKey": "best", "producerTask": select}
    mon = tasks["monitor"]["inputs"]["artifacts"]
    assert mon["upstream_eda"]["taskOutputArtifact"]["producerTask"] == "eda"
    assert set(tasks["report"]["dependentTasks"]) >= {"evaluate", "monitor"}
    # each notebook step runs `mlops-nb run` in the image, metrics as a Metrics output
    execs = ir["deploymentSpec"]["executors"]
    ev_exec = execs[ir["components"]["comp-evaluate"]["executorLabel"]]["container"]
    assert ev_exec["image"] == "registry.example/mlops:1"
    assert ev_exec["command"] == ["mlops-nb"]
    assert ev_exec["args"][:2] == ["run", "notebooks/evaluate.ipynb"]
    outs = ir["components"]["comp-evaluate"]["outputDefinitions"]["artifacts"]
    assert outs["metrics"]["artifactType"]["schemaTitle"] == "system.Metrics"
    grid_exec = next(
        e["container"]
        for e in execs.values()
        if "notebooks/train.ipynb" in e["container"].get("args", [])
    )
    assert grid_exec["resources"]["resourceCpuLimit"] == "2"
    assert grid_exec["resources"]["resourceMemoryLimit"] == "4G"
    # the IR loads back as a component with the real SDK
    assert components.load_component_from_file(str(out)).name == "example"


@pytest.mark.kfp
def test_kfp_bad_resources_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["pipeline", "export", str(EXAMPLE), "--format", "kfp", "--resources", "nope:cpu=1"]
    assert main(argv) == 2
    assert "expected STEP:KEY=VALUE" in capsys.readouterr().err
    argv[-1] = "train:cores=1"
    assert main(argv) == 2
    assert "KEY one of" in capsys.readouterr().err
