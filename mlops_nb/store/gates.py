"""A gate step's decision as stored: ``<runs>/pipelines/<name>/gates/<id>/gate.json``.

The store layer's view, so that readers below the pipeline layer (lineage) can show a gate's
decision without importing the pipeline engine; ``mlops_nb.pipeline.gate`` writes these files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GATE_FILE = "gate.json"


def read_decision(folder: str | Path | None) -> dict[str, Any]:
    """A gate run's record (``{}`` when missing or unreadable)."""
    if not folder:
        return {}
    try:
        data = json.loads((Path(folder) / GATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
