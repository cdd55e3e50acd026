"""`pipeline export --format kfp|argo`: compiled by the real kfp SDK, validated by hera.

The kfp and hera tests run in tests/integrations.py's ``repro`` environment; the Argo DAG's
wiring (plain YAML) is checked in the main one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mlops_nb.main import main
from tests.pipeline.gate_free import EXAMPLE, gate_free_example


def _export(tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / f"example.{fmt}.yaml"
    pipe = gate_free_example(tmp_path / "project")
    argv = ["pipeline", "export", str(pipe), "--format", fmt, "-o", str(out), *extra]
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
    assert {"eda", "train", "evaluate", "report"} <= names
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
    assert "evaluate" in tasks["report"]["dependentTasks"]
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


def test_kfp_bad_resources_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["pipeline", "export", str(EXAMPLE), "--format", "kfp", "--resources", "nope:cpu=1"]
    assert main(argv) == 2
    assert "expected STEP:KEY=VALUE" in capsys.readouterr().err
    argv[-1] = "train:cores=1"
    assert main(argv) == 2
    assert "KEY one of" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["dvc", "kfp", "argo"])
def test_pipeline_with_gates_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """Gates run only under `pipeline run`: the example (gates register, promote) is refused
    before any format's packages are imported (this runs without kfp) or a file is written."""
    out = tmp_path / "out" / f"example.{fmt}.yaml"
    assert main(["pipeline", "export", str(EXAMPLE), "--format", fmt, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "gate steps register, promote cannot be exported" in err
    assert "only under `mlops-nb pipeline run`" in err
    assert str(EXAMPLE) in err
    assert not (tmp_path / "out").exists()
    # any gate, anywhere: one gate between two notebook steps
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw["steps"] = {k: raw["steps"][k] for k in ("eda", "train", "evaluate", "register")}
    pipe = gate_free_example(tmp_path / "project").with_name("gated.yaml")
    pipe.write_text(yaml.safe_dump(raw))
    assert main(["pipeline", "export", str(pipe), "--format", fmt, "-o", str(out)]) == 2
    assert "gate step register cannot be exported" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (pipe.parent / "dvc.yaml").exists()


def _argo_export(tmp_path: Path) -> str:
    out = _export(
        tmp_path,
        "argo",
        "--image",
        "registry.example/mlops:1",
        "--resources",
        "train:cpu=2,memory_request=1Gi,gpu=1",
    )
    return out.read_text()


@pytest.mark.argo
def test_argo_workflow_validates_with_hera(tmp_path: Path) -> None:
    from hera.workflows import Workflow

    built = Workflow.from_yaml(_argo_export(tmp_path)).build()  # hera rejects malformed fields
    assert built.kind == "Workflow"


def test_argo_workflow_wires_the_dag(tmp_path: Path) -> None:
    """The Workflow's DAG, read as YAML (no Argo package needed: it runs in the main env)."""
    wf = yaml.safe_load(_argo_export(tmp_path))
    templates = {t["name"]: t for t in wf["spec"]["templates"]}
    tasks = {t["name"]: t for t in templates[wf["spec"]["entrypoint"]]["dag"]["tasks"]}
    assert set(tasks) == {"eda", "train-grid", "train", "evaluate", "report"}
    grid = tasks["train-grid"]
    assert len(grid["withItems"]) == 4
    assert grid["dependencies"] == ["eda"]
    assert grid["arguments"]["artifacts"] == [
        {"name": "eda", "from": "{{tasks.eda.outputs.artifacts.out}}"}
    ]
    assert tasks["train"]["dependencies"] == ["train-grid"]
    assert tasks["evaluate"]["arguments"]["artifacts"] == [
        {"name": "train", "from": "{{tasks.train.outputs.artifacts.out}}"}
    ]
    assert set(tasks["report"]["dependencies"]) == {"eda", "train", "evaluate"}  # ancestors
    container = templates["train-grid"]["container"]
    assert container["image"] == "registry.example/mlops:1"
    assert container["args"][:2] == ["run", "notebooks/train.ipynb"]
    assert "{{inputs.parameters.model}}" in container["args"]
    assert container["resources"] == {
        "limits": {"cpu": "2", "nvidia.com/gpu": "1"},
        "requests": {"memory": "1Gi"},
    }
    # the fan-in reads each combination's folder from the key the combination stored it under
    grid_keys = {a["s3"]["key"] for a in templates["train-grid"]["outputs"]["artifacts"]}
    select_keys = {a["s3"]["key"] for a in templates["train"]["inputs"]["artifacts"]}
    assert len(select_keys) == 8
    assert {
        k.replace("{{inputs.parameters.model}}", "logreg").replace(
            "{{inputs.parameters.class_weight}}", "none"
        )
        for k in grid_keys
    } <= select_keys
    assert templates["train"]["container"]["args"][:2] == ["pipeline", "select"]


@pytest.mark.argo
def test_argo_malformed_workflow_is_rejected_by_the_validator(tmp_path: Path) -> None:
    """The validator used above can fail: a wrong field type is refused."""
    from hera.workflows import Workflow

    wf = yaml.safe_load(_export(tmp_path, "argo").read_text())
    wf["spec"]["templates"][1]["container"]["args"] = {"not": "a list"}
    with pytest.raises(Exception, match="args"):
        Workflow.from_yaml(yaml.safe_dump(wf)).build()
