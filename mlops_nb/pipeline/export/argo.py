"""A pipeline as an Argo Workflows ``Workflow`` (plain YAML; no dependency to write it).

A DAG template ``main`` with one task per step; every notebook step's container runs ``mlops-nb
run NOTEBOOK ... --output-dir /tmp/outputs/out --metrics-file /tmp/outputs/metrics.json``, with
the folder (its run record inside, under ``.runs``) and the metrics file as output artifacts and
each upstream step's folder as an input artifact (``from: {{tasks.X.outputs.artifacts.out}}``).
A grid is a ``withItems`` fan-out; its combinations store their folders as key-only artifacts
(``{{workflow.name}}/<step>/<combination>`` in the default artifact repository, S3-compatible)
that the fan-in task reads to copy the best one (``mlops-nb pipeline select``). Spec:
https://argo-workflows.readthedocs.io/en/latest/fields/ (Workflow, DAGTemplate, Artifact).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_nb import yaml_io
from mlops_nb.errors import ConfigError
from mlops_nb.pipeline.export import common
from mlops_nb.pipeline.spec import Pipeline, Step

OUT = "/tmp/outputs/out"
METRICS = "/tmp/outputs/metrics.json"
RUNS = ".runs"
_GPU = "nvidia.com/gpu"


def name_of(step: str) -> str:
    """A step name as an Argo template/task name (lowercase letters, digits, '-')."""
    return re.sub(r"[^a-z0-9-]+", "-", step.lower()).strip("-") or "step"


def _resources(wanted: Mapping[str, str]) -> dict[str, Any]:
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    for key, value in wanted.items():
        if key == "accelerator":
            continue  # a node selector matter on Argo; kfp only
        kind = requests if key.endswith("_request") else limits
        kind[_GPU if key == "gpu" else key.removesuffix("_request")] = str(value)
    out: dict[str, Any] = {}
    if limits:
        out["limits"] = limits
    if requests:
        out["requests"] = requests
    return out


def _container(image: str, args: list[str], resources: Mapping[str, str]) -> dict[str, Any]:
    container: dict[str, Any] = {"image": image, "command": [args[0]], "args": args[1:]}
    if resources:
        container["resources"] = _resources(resources)
    return container


def _notebook_template(
    pipeline: Pipeline, step: Step, image: str, resources: Mapping[str, str]
) -> dict[str, Any]:
    assert step.notebook is not None
    grid = step.grid or {}
    params = {**step.params, **{k: v[0] for k, v in grid.items()}}
    ups = common.notebook_upstream(pipeline, step)
    args = common.run_args(
        common.rel(step.notebook, common.project_root(pipeline.root)),
        params,
        out=OUT,
        metrics=METRICS,
        upstream={u: f"/tmp/inputs/{name_of(u)}" for u in ups},
        runs_dir=f"{OUT}/{RUNS}",
        ref=lambda name, value: (
            "{{inputs.parameters." + name + "}}" if name in grid else str(value)
        ),
    )
    template: dict[str, Any] = {"name": name_of(step.name) + ("-grid" if grid else "")}
    inputs: dict[str, Any] = {}
    if grid:
        inputs["parameters"] = [{"name": k} for k in grid]
    if ups:
        inputs["artifacts"] = [
            {"name": name_of(u), "path": f"/tmp/inputs/{name_of(u)}"} for u in ups
        ]
    if inputs:
        template["inputs"] = inputs
    out: dict[str, Any] = {"name": "out", "path": OUT}
    metrics: dict[str, Any] = {"name": "metrics", "path": METRICS}
    if grid:  # stored under known keys for the fan-in
        label = "-".join("{{inputs.parameters." + k + "}}" for k in grid)
        key = "{{workflow.name}}/" + name_of(step.name) + "/" + label
        out["s3"] = {"key": key}
        metrics["s3"] = {"key": key + ".metrics.json"}
    template["outputs"] = {"artifacts": [out, metrics]}
    template["container"] = _container(image, args, resources)
    return template


def _select_template(step: Step, image: str) -> dict[str, Any]:
    assert step.grid
    sel = step.select or {}
    if not sel.get("metric"):
        raise ConfigError(
            f"step {step.name!r}: a grid step needs select: {{metric: NAME, mode: max|min}} to "
            "export (the fan-in picks the best run by it)."
        )
    artifacts, candidates = [], []
    for values in common.combinations(step.grid):
        label = "-".join(str(v) for v in values.values())
        safe = common.item_name(values)
        key = "{{workflow.name}}/" + name_of(step.name) + "/" + label
        folder, metrics = f"/tmp/candidates/{safe}", f"/tmp/candidates/{safe}.json"
        artifacts.append(
            {"name": f"c-{safe}".lower().replace(".", "-"), "path": folder, "s3": {"key": key}}
        )
        artifacts.append(
            {
                "name": f"m-{safe}".lower().replace(".", "-"),
                "path": metrics,
                "s3": {"key": key + ".metrics.json"},
            }
        )
        candidates.append((folder, metrics))
    args = common.select_args(step, candidates)
    args = [
        OUT
        if a == common.out_dir(step.name)
        else METRICS
        if a == common.metrics_file(step.name)
        else a
        for a in args
    ]
    return {
        "name": name_of(step.name),
        "inputs": {"artifacts": artifacts},
        "outputs": {
            "artifacts": [{"name": "out", "path": OUT}, {"name": "metrics", "path": METRICS}]
        },
        "container": {"image": image, "command": [args[0]], "args": args[1:]},
    }


def _report_template(pipeline: Pipeline, step: Step, image: str) -> dict[str, Any]:
    sources = common.ancestors(pipeline, step)
    report = step.report or {}
    title = f" --title {shlex.quote(str(report['title']))}" if report.get("title") else ""
    copy = "".join(f" && cp -r /tmp/inputs/{name_of(u)}/{RUNS}/. /tmp/runs/" for u in sources)
    script = f"mkdir -p /tmp/runs /tmp/outputs{copy} && mlops-nb report --runs-dir /tmp/runs -o /tmp/outputs/report.html{title}"
    return {
        "name": name_of(step.name),
        "inputs": {
            "artifacts": [
                {"name": name_of(u), "path": f"/tmp/inputs/{name_of(u)}"} for u in sources
            ]
        },
        "outputs": {"artifacts": [{"name": "report", "path": "/tmp/outputs/report.html"}]},
        "container": {"image": image, "command": ["sh", "-c"], "args": [script]},
    }


def _from(step: str) -> dict[str, str]:
    return {"name": name_of(step), "from": "{{tasks." + name_of(step) + ".outputs.artifacts.out}}"}


def export(
    pipeline: Pipeline,
    *,
    target: Path,
    image: str | None,
    resources: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """``{target name: Workflow YAML}``."""
    image = image or "mlops-nb:latest"
    resources = resources or {}
    templates: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    for name in pipeline.order():
        step = pipeline.steps[name]
        deps = [name_of(u) for u in step.upstream]
        task: dict[str, Any] = {"name": name_of(name), "template": name_of(name)}
        if step.report is not None:
            templates.append(_report_template(pipeline, step, image))
            arts = [_from(u) for u in common.ancestors(pipeline, step)]
            deps = sorted({*deps, *(name_of(u) for u in common.ancestors(pipeline, step))})
        else:
            templates.append(_notebook_template(pipeline, step, image, resources.get(name, {})))
            arts = [_from(u) for u in common.notebook_upstream(pipeline, step)]
        if step.grid:
            grid_task: dict[str, Any] = {
                "name": name_of(name) + "-grid",
                "template": name_of(name) + "-grid",
                "arguments": {
                    "parameters": [{"name": k, "value": "{{item." + k + "}}"} for k in step.grid],
                    **({"artifacts": arts} if arts else {}),
                },
                "withItems": [
                    {k: str(v) for k, v in c.items()} for c in common.combinations(step.grid)
                ],
            }
            if deps:
                grid_task["dependencies"] = deps
            tasks.append(grid_task)
            templates.append(_select_template(step, image))
            deps, arts = [name_of(name) + "-grid"], []
        if deps:
            task["dependencies"] = deps
        if arts:
            task["arguments"] = {"artifacts": arts}
        tasks.append(task)
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": f"{name_of(pipeline.name)}-"},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "dag": {"tasks": tasks}}, *templates],
        },
    }
    return {target.name: yaml_io.dumps(workflow)}
