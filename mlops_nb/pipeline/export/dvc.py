"""A pipeline as a DVC project: ``dvc.yaml`` (+ ``params.yaml``) whose stages run ``mlops-nb run``.

Stage layout (https://dvc.org/doc/user-guide/project-structure/dvcyaml-files): one stage per
notebook step, with ``cmd``, ``deps`` (the notebook, input files, the local modules its
fingerprint follows, upstream outputs), ``outs`` (``outputs/<step>``) and ``metrics``
(``metrics/<step>.json``, not cached). Scalar parameters live in ``params.yaml`` under the step's
name and reach ``cmd`` as ``${step.param}``, so DVC tracks them and ``dvc exp run -S
step.param=v`` changes them. A grid becomes a ``matrix:`` stage ``<step>_grid`` and the
selection a fan-in stage ``<step>`` (``mlops-nb pipeline select``); a report step a stage too.
Written with a YAML dumper: DVC rejected hand-formatted ``cmd`` strings holding ``: `` and flow
lists holding ``${...}`` (FACTS.md, "DVC").
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_nb import yaml_io
from mlops_nb.errors import ConfigError, UsageError
from mlops_nb.notebook.io import code_cells, read_notebook, source_of
from mlops_nb.notebook.params import parse_notebook_params
from mlops_nb.pipeline import fingerprint as fp
from mlops_nb.pipeline.export import common
from mlops_nb.pipeline.spec import Pipeline, Step

_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


def export(
    pipeline: Pipeline,
    *,
    target: Path,
    image: str | None = None,
    resources: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """``{"dvc.yaml": ..., "params.yaml": ...}`` for a ``dvc.yaml`` at ``target``.

    ``image`` and ``resources`` do not apply (DVC runs the commands on this machine).
    """
    base = target.parent
    root = common.project_root(base)
    if not pipeline.root.resolve().is_relative_to(root):
        raise UsageError(
            f"-o {target}: dvc.yaml must be inside the project that holds the pipeline "
            f"({pipeline.root}); DVC runs its stages from there."
        )
    runs_dir = common.rel(pipeline.runs_dir, base) if pipeline.runs_dir else None
    stages: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for name in pipeline.order():
        step = pipeline.steps[name]
        if step.report is not None:
            stages[name] = _report_stage(pipeline, step, runs_dir)
            continue
        scalars = {k: v for k, v in step.params.items() if _templated(v)}
        if scalars:
            params[name] = scalars
        if step.grid:
            stages[f"{name}_grid"] = _grid_stage(pipeline, step, base, runs_dir)
            stages[name] = _select_stage(step)
        else:
            stages[name] = _stage(pipeline, step, base, runs_dir)
    files = {target.name: yaml_io.dumps({"stages": stages})}
    files["params.yaml"] = yaml_io.dumps(params) if params else "{}\n"
    return files


def _templated(value: Any) -> bool:
    """Scalars go through params.yaml, except strings the shell would still interpret once
    DVC substituted them inside double quotes (those stay literal, shell-quoted, in ``cmd``)."""
    return common.is_scalar(value) and not (isinstance(value, str) and set(value) & set('"$`\\'))


def _ref(step: str, name: str, value: Any) -> str:
    if not _templated(value):
        return str(value)
    ref = "${" + f"{step}.{name}" + "}"
    return f'"{ref}"' if isinstance(value, str) else ref


def _template(step: str) -> Any:
    return lambda name, value: _ref(step, name, value)


def _cmd(args: list[str]) -> str:
    # `${...}` must reach DVC as written (it substitutes before the shell runs the command)
    return " ".join(a if "${" in a else shlex.quote(a) for a in args)


def _upstream(pipeline: Pipeline, step: Step) -> dict[str, str]:
    return {u: common.out_dir(u) for u in step.upstream if pipeline.steps[u].report is None}


def _stage(pipeline: Pipeline, step: Step, base: Path, runs_dir: str | None) -> dict[str, Any]:
    assert step.notebook is not None
    args = common.run_args(
        common.rel(step.notebook, base),
        step.params,
        out=common.out_dir(step.name),
        metrics=common.metrics_file(step.name),
        upstream=_upstream(pipeline, step),
        runs_dir=runs_dir,
        ref=_template(step.name),
    )
    return {
        "cmd": _cmd(args),
        "deps": _deps(pipeline, step, base),
        "outs": [common.out_dir(step.name)],
        "metrics": [{common.metrics_file(step.name): {"cache": False}}],
    }


def _grid_stage(pipeline: Pipeline, step: Step, base: Path, runs_dir: str | None) -> dict[str, Any]:
    assert step.notebook is not None and step.grid
    for key, values in step.grid.items():
        bad = [v for v in values if not _SAFE.match(_dvc_str(v))]
        if bad:
            raise ConfigError(
                f"step {step.name!r}: grid value {bad[0]!r} of {key!r} cannot name a DVC output "
                "folder (use letters, digits, '.', '_', '-')."
            )
    grid = step.grid
    label = "-".join("${item." + k + "}" for k in grid)
    grid_params = {**step.params, **{k: values[0] for k, values in step.grid.items()}}

    def ref(name: str, value: Any) -> str:
        return "${item." + name + "}" if name in grid else _ref(step.name, name, value)

    args = common.run_args(
        common.rel(step.notebook, base),
        grid_params,
        out=common.out_dir(f"{step.name}_grid", label),
        metrics=common.metrics_file(f"{step.name}_grid", label),
        upstream=_upstream(pipeline, step),
        runs_dir=runs_dir,
        ref=ref,
    )
    return {
        "matrix": {k: list(v) for k, v in step.grid.items()},
        "cmd": _cmd(args),
        "deps": _deps(pipeline, step, base),
        "outs": [common.out_dir(f"{step.name}_grid", label)],
        "metrics": [{common.metrics_file(f"{step.name}_grid", label): {"cache": False}}],
    }


def _dvc_str(value: Any) -> str:
    """How DVC renders a matrix value in a path (YAML booleans as true/false)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _select_stage(step: Step) -> dict[str, Any]:
    assert step.grid
    if not (step.select or {}).get("metric"):
        raise ConfigError(
            f"step {step.name!r}: a grid step needs select: {{metric: NAME, mode: max|min}} "
            "to export (the fan-in picks the best run by it)."
        )
    candidates = []
    for values in common.combinations(step.grid):
        label = "-".join(_dvc_str(v) for v in values.values())
        folder = common.out_dir(f"{step.name}_grid", label)
        candidates.append((folder, common.metrics_file(f"{step.name}_grid", label)))
    return {
        "cmd": _cmd(common.select_args(step, candidates)),
        "deps": [p for pair in candidates for p in pair],
        "outs": [common.out_dir(step.name)],
        "metrics": [{common.metrics_file(step.name): {"cache": False}}],
    }


def _report_stage(pipeline: Pipeline, step: Step, runs_dir: str | None) -> dict[str, Any]:
    return {
        "cmd": _cmd(common.report_args(pipeline, step, runs_dir=runs_dir)),
        "deps": [common.metrics_file(u) for u in step.upstream],
        "outs": [common.report_file(step.name)],
    }


def _deps(pipeline: Pipeline, step: Step, base: Path) -> list[str]:
    """The notebook, input files, local modules and upstream outputs, inside the project."""
    assert step.notebook is not None
    root = common.project_root(base)
    nb_dir = step.notebook.parent.resolve()
    found: list[Path] = [step.notebook.resolve()]
    nb = read_notebook(step.notebook)
    declared = parse_notebook_params(nb, source=str(step.notebook))
    defaults = {s.name: s.default for s in declared.specs if s.literal_default}
    params = {**defaults, **step.params, **{k: v[0] for k, v in (step.grid or {}).items()}}
    for text in fp.input_files(params, [nb_dir, *_roots(pipeline)])[0]:
        for b in (nb_dir, *_roots(pipeline)):
            if (b / text).exists():
                found.append((b / text).resolve())
                break
    sources = [source_of(c) for _, c in code_cells(nb)]
    search = fp.search_path([nb_dir, *_roots(pipeline)])
    for label in fp.local_modules(sources, roots=[nb_dir, *_roots(pipeline)]):
        for b in search:
            if (b / label).is_file():
                found.append((b / label).resolve())
                break
    deps = [common.rel(p, base) for p in found if p.is_relative_to(root)]
    deps += [common.out_dir(u) for u in _upstream(pipeline, step)]
    return list(dict.fromkeys(deps))


def _roots(pipeline: Pipeline) -> list[Path]:
    root = pipeline.root.resolve()
    return [root, root.parent]
