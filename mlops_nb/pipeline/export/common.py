"""What every export format shares: stable folders per step and the ``mlops-nb run`` arguments.

A step's results live at stable paths (DVC outs cannot depend on run ids): ``outputs/<step>``
(the notebook's ``output_dir``) and ``metrics/<step>.json`` (its scalar scraps). A grid step
becomes one sub-step per combination (``<step>/<combination>``) and a fan-in that copies the
best one to ``outputs/<step>``, so downstream steps see the same folder either way.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_nb.pipeline.spec import Pipeline, Step

# step -> {resource key: value} (``parse_resources``); None: none
Resources = Mapping[str, Mapping[str, str]] | None
OUTPUTS = "outputs"
METRICS = "metrics"


def out_dir(step: str, item: str | None = None) -> str:
    return f"{OUTPUTS}/{step}" + (f"/{item}" if item else "")


def metrics_file(step: str, item: str | None = None) -> str:
    return f"{METRICS}/{step}" + (f"/{item}" if item else "") + ".json"


def report_file(step: str) -> str:
    return f"{OUTPUTS}/{step}.html"


def combinations(grid: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of a grid, in the grid's order (as ``sweep`` expands it)."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def item_name(values: Mapping[str, Any]) -> str:
    """A file-name-safe label of one grid combination: ``model=logreg,C=0.5`` → ``logreg-0.5``."""
    return "-".join(re.sub(r"[^A-Za-z0-9._]+", "_", str(v)) for v in values.values())


def rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def param_args(params: Mapping[str, Any], ref: Any = None) -> list[str]:
    """``mlops-nb run`` flags for parameters: ``-p NAME VALUE`` for numbers, ``-r NAME VALUE``
    for strings (never re-parsed), ``-y JSON`` for the rest (booleans, lists, mappings).

    ``ref(name, value)``, when given, returns the text to put instead of a scalar value (a DVC
    ``${step.name}`` template or a Kubeflow input placeholder).
    """
    import json

    args: list[str] = []
    other: dict[str, Any] = {}
    for name, value in params.items():
        if not is_scalar(value):
            other[name] = value
            continue
        text = ref(name, value) if ref is not None else str(value)
        args += ["-r" if isinstance(value, str) else "-p", name, text]
    if other:
        args += ["-y", json.dumps(other, separators=(",", ":"))]
    return args


def run_args(
    notebook: str,
    params: Mapping[str, Any],
    *,
    out: str,
    metrics: str,
    upstream: Mapping[str, str],
    runs_dir: str | None = None,
    ref: Any = None,
) -> list[str]:
    """The argument list of ``mlops-nb run`` for one step (or one grid combination)."""
    args = ["mlops-nb", "run", notebook, *param_args(params, ref)]
    args += ["--output-dir", out, "--metrics-file", metrics]
    for name, path in upstream.items():
        args += ["--upstream", f"{name}={path}"]
    if runs_dir:
        args += ["--runs-dir", runs_dir]
    return args


def select_args(step: Step, candidates: list[tuple[str, str]]) -> list[str]:
    """``mlops-nb pipeline select``: copy the best candidate folder to the step's output."""
    sel = step.select or {}
    args = ["mlops-nb", "pipeline", "select", "--metric", str(sel.get("metric") or "")]
    args += ["--mode", str(sel.get("mode", "max"))]
    args += ["--output-dir", out_dir(step.name), "--metrics-file", metrics_file(step.name)]
    for folder, metrics in candidates:
        args += ["--candidate", folder, metrics]
    return args


def report_args(pipeline: Pipeline, step: Step, *, runs_dir: str | None) -> list[str]:
    report = step.report or {}
    args = ["mlops-nb", "report", "-o", report_file(step.name)]
    if report.get("title"):
        args += ["--title", str(report["title"])]
    if report.get("sort"):
        args += ["--sort", str(report["sort"])]
    if runs_dir:
        args += ["--runs-dir", runs_dir]
    return args


def project_root(base: Path) -> Path:
    """The folder holding ``.dvc`` or ``.git`` at or above ``base`` (else ``base``): DVC deps
    stay inside it, and container images hold it as their working directory."""
    here = base.resolve()
    for d in (here, *here.parents):
        if (d / ".dvc").is_dir() or (d / ".git").exists():
            return d
    return here


def parse_resources(items: list[str] | None, steps: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``["train:cpu=2,memory=4G"]`` → ``{"train": {"cpu": "2", "memory": "4G"}}``.

    Keys: cpu, cpu_request, memory, memory_request, gpu, accelerator (Kubernetes quantities).
    Raises ``UsageError`` naming the bad item.
    """
    from mlops_nb.errors import UsageError

    out: dict[str, dict[str, str]] = {}
    for item in items or []:
        step, sep, rest = item.partition(":")
        if not sep or step not in steps:
            raise UsageError(
                f"--resources {item!r}: expected STEP:KEY=VALUE[,KEY=VALUE] with STEP one of "
                f"{', '.join(steps)}."
            )
        for pair in rest.split(","):
            key, eq, value = pair.partition("=")
            if not eq or key not in RESOURCE_KEYS or not value:
                raise UsageError(
                    f"--resources {item!r}: {pair!r} is not KEY=VALUE with KEY one of "
                    f"{', '.join(RESOURCE_KEYS)}."
                )
            out.setdefault(step, {})[key] = value
    return out


RESOURCE_KEYS = ("cpu", "cpu_request", "memory", "memory_request", "gpu", "accelerator")


def notebook_upstream(pipeline: Pipeline, step: Step) -> list[str]:
    """The upstream steps whose output folder ``step`` receives (reports have none)."""
    return [u for u in step.upstream if pipeline.steps[u].report is None]


def ancestors(pipeline: Pipeline, step: Step) -> list[str]:
    """Every notebook step upstream of ``step``, directly or not, in pipeline order."""
    seen: set[str] = set()
    todo = list(step.upstream)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += list(pipeline.steps[name].upstream)
    return [n for n in pipeline.order() if n in seen and pipeline.steps[n].report is None]
