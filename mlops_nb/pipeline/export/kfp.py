"""A pipeline as Kubeflow Pipelines IR YAML, compiled by the real ``kfp`` SDK (extra ``[kfp]``).

Each notebook step is a container component (component YAML loaded with
``kfp.components.load_component_from_text``) whose command is ``mlops-nb run NOTEBOOK ...``:
its ``output_dir`` is an output artifact (the run's record lives inside, under ``.runs``), its
scalar scraps a ``Metrics`` output, and each upstream step's folder an input artifact passed as
``--upstream NAME=PATH``. A grid is a ``dsl.ParallelFor`` fan-out over the combinations and the
selection a fan-in over ``dsl.Collected`` outputs (a kfp Python component: it installs kfp in its
container when it starts). A report step gathers its ancestors' run records and runs
``mlops-nb report``. Docs: https://www.kubeflow.org/docs/components/pipelines/user-guides/.
"""

from __future__ import annotations

import shlex
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mlops_nb import yaml_io
from mlops_nb.errors import ConfigError, missing_extra
from mlops_nb.pipeline.export import common
from mlops_nb.pipeline.spec import Pipeline, Step

RUNS = ".runs"  # each run's record, inside its output artifact (containers share no runs store)


def _container(image: str, args: list[Any]) -> dict[str, Any]:
    return {"container": {"image": image, "command": [args[0]], "args": args[1:]}}


def notebook_component(pipeline: Pipeline, step: Step, image: str) -> dict[str, Any]:
    """The component spec (KFP component YAML) of one notebook step."""
    assert step.notebook is not None
    grid = step.grid or {}
    params = {**step.params, **{k: v[0] for k, v in grid.items()}}
    out = {"outputPath": "output_dir"}
    raw = common.run_args(
        common.rel(step.notebook, common.project_root(pipeline.root)),
        params,
        out="OUT",
        metrics="METRICS",
        upstream={u: f"UP:{u}" for u in common.notebook_upstream(pipeline, step)},
        ref=lambda name, value: {"inputValue": name} if name in grid else str(value),
    )
    args: list[Any] = [_placeholder(a) for a in raw]
    args += ["--runs-dir", {"concat": [out, f"/{RUNS}"]}]
    inputs = [
        {"name": f"upstream_{u}", "type": "Artifact"}
        for u in common.notebook_upstream(pipeline, step)
    ]
    inputs += [{"name": k, "type": "String"} for k in grid]
    return {
        "name": step.name,
        "inputs": inputs,
        "outputs": [
            {"name": "output_dir", "type": "Artifact"},
            {"name": "metrics", "type": "Metrics"},
        ],
        "implementation": _container(image, args),
    }


def _placeholder(arg: Any) -> Any:
    if arg == "OUT":
        return {"outputPath": "output_dir"}
    if arg == "METRICS":
        return {"outputPath": "metrics"}
    if isinstance(arg, str) and "=UP:" in arg:
        name = arg.split("=UP:", 1)[0]
        return {"concat": [f"{name}=", {"inputPath": f"upstream_{name}"}]}
    return arg


def report_component(pipeline: Pipeline, step: Step, image: str) -> dict[str, Any]:
    """``mlops-nb report`` over the run records of every notebook step upstream of ``step``."""
    sources = common.ancestors(pipeline, step)
    report = step.report or {}
    title = f" --title {shlex.quote(str(report['title']))}" if report.get("title") else ""
    script = (
        'set -e; out="$0"; mkdir -p /tmp/runs; '
        f'for d in "$@"; do cp -r "$d/{RUNS}/." /tmp/runs/; done; '
        f'mlops-nb report --runs-dir /tmp/runs -o "$out"{title}'
    )
    args: list[Any] = ["sh", "-c", script, {"outputPath": "report"}]
    args += [{"inputPath": f"upstream_{u}"} for u in sources]
    return {
        "name": step.name,
        "inputs": [{"name": f"upstream_{u}", "type": "Artifact"} for u in sources],
        "outputs": [{"name": "report", "type": "HTML"}],
        "implementation": _container(image, args),
    }


def _apply_resources(task: Any, wanted: Mapping[str, str]) -> None:
    setters = {
        "cpu": task.set_cpu_limit,
        "cpu_request": task.set_cpu_request,
        "memory": task.set_memory_limit,
        "memory_request": task.set_memory_request,
        "gpu": task.set_accelerator_limit,
        "accelerator": task.set_accelerator_type,
    }
    for key, value in wanted.items():
        setters[key](str(value))


def export(
    pipeline: Pipeline, *, target: Path, image: str | None, resources: common.Resources = None
) -> dict[str, str]:
    """``{target name: IR YAML}`` compiled by ``kfp.compiler.Compiler``."""
    try:
        from kfp import compiler, dsl
    except ImportError:
        raise missing_extra("kfp", "kfp", "pipeline export --format kfp") from None
    for name, step in pipeline.steps.items():
        if step.grid and not (step.select or {}).get("metric"):
            raise ConfigError(
                f"step {name!r}: a grid step needs select: {{metric: NAME, mode: max|min}} to "
                "export (the fan-in picks the best run by it)."
            )
    build = _builder(pipeline, image or "mlops-nb:latest", resources or {})
    build.__name__ = pipeline.name.replace("-", "_")
    build.__annotations__ = {}  # kfp would read the (string) return annotation as an output
    pipe = dsl.pipeline(name=pipeline.name)(build)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pipeline.yaml"
        compiler.Compiler().compile(pipe, package_path=str(path))
        return {target.name: path.read_text(encoding="utf-8")}


def _load(spec: dict[str, Any]) -> Any:
    from kfp import components

    return components.load_component_from_text(yaml_io.dumps(spec))


def _builder(
    pipeline: Pipeline, image: str, resources: Mapping[str, Mapping[str, str]]
) -> Callable[[], None]:
    """The pipeline function ``dsl.pipeline`` compiles: one task per step, in order."""

    def build() -> None:
        outputs: dict[str, Any] = {}  # step -> its output_dir artifact
        for name in pipeline.order():
            step = pipeline.steps[name]
            ups = {f"upstream_{u}": outputs[u] for u in common.notebook_upstream(pipeline, step)}
            if step.report is not None:
                op = _load(report_component(pipeline, step, image))
                task = op(**{f"upstream_{u}": outputs[u] for u in common.ancestors(pipeline, step)})
            elif step.grid:
                task = _grid_task(pipeline, step, image, ups, resources.get(name, {}))
                outputs[name] = task.outputs["best"]
            else:
                task = _load(notebook_component(pipeline, step, image))(**ups)
                outputs[name] = task.outputs["output_dir"]
            task.set_display_name(name)
            if not step.grid:
                _apply_resources(task, resources.get(name, {}))

    return build


def _grid_task(
    pipeline: Pipeline, step: Step, image: str, ups: dict[str, Any], wanted: Mapping[str, str]
) -> Any:
    """A grid step: one task per combination (``dsl.ParallelFor``), and the fan-in that picks
    the best by ``select`` (``_kfp_select``)."""
    from kfp import dsl

    from mlops_nb.pipeline.export import _kfp_select

    assert step.grid is not None
    op = _load(notebook_component(pipeline, step, image))
    items = [{k: str(v) for k, v in c.items()} for c in common.combinations(step.grid)]
    with dsl.ParallelFor(items=items) as item:
        inner = op(**ups, **{k: getattr(item, k) for k in step.grid})
        inner.set_display_name(f"{step.name} (grid)")
        _apply_resources(inner, wanted)
    sel = step.select or {}
    return _kfp_select.component(image)(
        metric=str(sel["metric"]),
        mode=str(sel.get("mode", "max")),
        candidates=dsl.Collected(inner.outputs["output_dir"]),
        candidate_metrics=dsl.Collected(inner.outputs["metrics"]),
    )
