"""``mlops-nb pipeline export``: the pipeline for DVC, Kubeflow Pipelines and Argo Workflows.

Every format runs the same thing in each step, ``mlops-nb run NOTEBOOK ... --output-dir DIR
--metrics-file F --upstream NAME=DIR``, so a step exported anywhere records its run as it would
here. Formats are a literal registry of modules, each with
``export(pipeline, *, target, image, resources) -> dict[file name, text]``; an unknown name lists the
valid ones.

Gate steps (``mlops_nb.pipeline.gate``: a rule over upstream scraps and a registry promotion,
maybe waiting for a human approval) have no ``mlops-nb`` command that runs one on its own, so a
pipeline holding any is refused (``UsageError``, exit 2) before a format module is imported or a
file is written: gates run only under ``mlops-nb pipeline run``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from mlops_nb.errors import UsageError
from mlops_nb.pipeline import hints
from mlops_nb.pipeline.spec import Pipeline

FORMATS: dict[str, str] = {
    "dvc": "mlops_nb.pipeline.export.dvc",
    "kfp": "mlops_nb.pipeline.export.kfp",
    "argo": "mlops_nb.pipeline.export.argo",
}


class Exporter(Protocol):
    def __call__(
        self,
        pipeline: Pipeline,
        *,
        target: Path,
        image: str | None,
        resources: Mapping[str, Mapping[str, str]] | None = None,
    ) -> dict[str, str]:
        """Files to write (name → text); ``target`` is the main file's path."""
        ...  # pragma: no cover


def export(
    pipeline: Pipeline,
    fmt: str,
    *,
    target: Path,
    image: str | None,
    resources: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """The files of ``pipeline`` in format ``fmt`` (names relative to ``target``'s folder)."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: unknown format; valid: {', '.join(FORMATS)}.")
    refuse_gates(pipeline, fmt)
    module = importlib.import_module(FORMATS[fmt])
    exporter: Exporter = module.export
    return exporter(pipeline, target=target, image=image, resources=resources)


def refuse_gates(pipeline: Pipeline, fmt: str) -> None:
    """Raise ``UsageError`` naming the gate steps of ``pipeline``, if it has any."""
    gates = [step.name for step in pipeline.steps.values() if step.kind == "gate"]
    if gates:
        raise UsageError(
            f"{pipeline.path}: gate step{'s' if len(gates) > 1 else ''} {', '.join(gates)} "
            f"cannot be exported to {fmt}: gates run only under `mlops-nb pipeline run`; "
            "export a pipeline without gate steps, or run this one with "
            f"`{hints.command(pipeline, 'run')}`."
        )
