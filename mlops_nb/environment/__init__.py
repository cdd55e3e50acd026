"""A run's computing environment, rebuilt or compared: lock files, container recipes, diffs.

Reads what the run recorded: ``environment`` in ``run.json`` (Python version, platform, packages
installed from paths or URLs) and ``environment.json`` beside it (every ``{name: version}``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb.errors import UsageError
from mlops_nb.execution.provenance import INSTALLER_TOOLING
from mlops_nb.store import runs as store


@dataclass(frozen=True)
class RunEnvironment:
    """What one run ran in."""

    run_id: str
    python: str  # exact version, e.g. "3.11.7"
    platform: str
    machine: str
    packages: dict[str, str]  # every distribution: name -> version
    unindexed: dict[str, dict[str, Any]] = field(default_factory=dict)  # PEP 610 direct URLs

    @property
    def installable(self) -> dict[str, str]:
        """Packages an index serves at their version: all but installer tooling and unindexed."""
        return {
            k: v
            for k, v in self.packages.items()
            if k not in INSTALLER_TOOLING and k not in self.unindexed
        }


def load(folder: Path) -> RunEnvironment:
    """The environment of the run in ``folder``; ``UsageError`` when it was not recorded."""
    record = store.read_record(folder)
    env = record.get("environment") or {}
    run_id = str(record.get("id", folder.name))
    try:
        with open(folder / store.ENVIRONMENT, encoding="utf-8") as f:
            packages = json.load(f)
    except (OSError, ValueError):
        packages = None
    if not env.get("python") or not isinstance(packages, dict):
        raise UsageError(
            f"run {run_id}: no recorded environment ({folder / store.ENVIRONMENT} is missing or "
            "unreadable); only runs that finished recording their provenance can be rebuilt."
        )
    return RunEnvironment(
        run_id=run_id,
        python=str(env["python"]),
        platform=str(env.get("platform", "")),
        machine=str(env.get("machine", "")),
        packages={str(k): str(v) for k, v in packages.items()},
        unindexed=dict(env.get("unindexed") or {}),
    )
