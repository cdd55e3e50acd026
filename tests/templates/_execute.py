"""Execute a template in a real kernel with `mlops_nb.run` and read its glued scraps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"


def execute(name: str, tmp_path: Path, **params: Any) -> tuple[dict[str, Any], Path]:
    """Run template ``name`` with ``params``; returns (scraps, the run folder = output_dir)."""
    import mlops_nb

    run = mlops_nb.run(
        TEMPLATES / f"{name}.ipynb", params, runs_dir=tmp_path / "runs", cwd=tmp_path
    )
    assert run.status == "ok", run.error_line()
    return run.scraps, run.path
