"""The pipeline file a `pipeline` action reads (argparse only at module level)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops_nb.pipeline.spec import Pipeline


def load_pipeline(file: str | None) -> Pipeline:
    """``spec.load`` of FILE; for a folder FILE, its pipeline.yaml, which stderr names."""
    from pathlib import Path

    from mlops_nb import output
    from mlops_nb.pipeline import spec

    path = spec.locate(file)
    if file is not None and path != Path(file):
        output.notice(f"{file} is a folder: using {path}")
    return spec.load(path)
