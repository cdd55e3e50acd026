"""The fan-in of a grid step on Kubeflow: a kfp Python component (kfp needs the function's real
annotations, so this module does not use ``from __future__ import annotations``)."""

from typing import Any

from kfp import dsl
from kfp.dsl import Artifact, Input, Metrics, Output


def select_best(  # pragma: no cover - runs inside the Kubeflow container
    metric: str,
    mode: str,
    candidates: Input[list[Artifact]],
    candidate_metrics: Input[list[Metrics]],
    best: Output[Artifact],
    best_metrics: Output[Metrics],
) -> None:
    """Copy the candidate folder with the best ``metric`` to ``best`` (as `pipeline select`)."""
    from mlops_nb.pipeline.export.select import select

    pairs = [(c.path, m.path) for c, m in zip(candidates, candidate_metrics, strict=True)]
    select(
        metric=metric,
        mode=mode,
        candidates=pairs,
        output_dir=best.path,
        metrics_file=best_metrics.path,
    )


def component(image: str) -> Any:
    """The component, run in ``image`` (which has mlops-nb; kfp installs itself at start)."""
    return dsl.component(base_image=image)(select_best)
