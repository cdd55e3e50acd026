"""The shipped example pipeline without its gates, for the export tests.

`pipeline export` refuses gate steps (they run only under `mlops-nb pipeline run`), and the
example's steps after `register` read the registry the gates write. What exports is the example's
steps up to `evaluate` (eda, the train grid with its fan-in, evaluate) and its report over them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "notebooks" / "pipeline.yaml"
KEPT = ("eda", "train", "evaluate")


def gate_free_example(project: Path) -> Path:
    """Copy the example's notebooks to ``project/notebooks`` (a git repository, so exported paths
    read ``notebooks/<name>.ipynb`` as from this checkout) and write the gate-free pipeline there;
    returns its ``pipeline.yaml``."""
    raw = yaml.safe_load(EXAMPLE.read_text())
    steps = {name: raw["steps"][name] for name in KEPT}
    assert not any("gate" in step for step in steps.values())
    steps["report"] = {**raw["steps"]["report"], "upstream": ["evaluate"]}
    folder = project / "notebooks"
    shutil.copytree(EXAMPLE.parent, folder, ignore=shutil.ignore_patterns("runs", ".*"))
    if not (project / ".git").exists():
        subprocess.run(["git", "init", "-q", str(project)], check=True)
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump({"name": raw["name"], "steps": steps}, sort_keys=False))
    return path
