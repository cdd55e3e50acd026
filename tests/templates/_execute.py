"""Execute a template in a real kernel and read its glued scraps.

Uses papermill directly: `mlops_nb.run` cannot execute notebooks whose cell sources are lists of
lines yet (nbformat's on-disk form); switch `execute` to `mlops_nb.run(path, params,
runs_dir=...)` once it does (it sets output_dir to the run folder itself).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
SCRAP_PREFIX = "application/scrapbook.scrap."


def scraps_of(nb: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            for key, payload in out.get("data", {}).items():
                if key.startswith(SCRAP_PREFIX):
                    found[payload["name"]] = payload["data"]
    return found


def execute(name: str, tmp_path: Path, **params: Any) -> tuple[dict[str, Any], Path]:
    """Run template ``name`` with ``params``; returns (scraps, output_dir)."""
    import papermill

    out_dir = tmp_path / f"{name}-{len(list(tmp_path.glob(name + '-*')))}"
    out_dir.mkdir(parents=True)
    output = out_dir / "output.ipynb"
    papermill.execute_notebook(
        str(TEMPLATES / f"{name}.ipynb"),
        str(output),
        parameters={"output_dir": str(out_dir), **params},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
        shutdown_kernel="immediate",
    )
    return scraps_of(json.loads(output.read_text(encoding="utf-8"))), out_dir
