"""A gate step's decision as stored: ``<runs>/pipelines/<name>/gates/<id>/gate.json``.

The store layer's view, so that readers below the pipeline layer (lineage) can show a gate's
decision without importing the pipeline engine; ``mlops_nb.pipeline.gate`` writes these files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlops_nb.errors import StoreError

GATE_FILE = "gate.json"
# The keys the gate writes that readers act on, and their types (``None``: may be null).
_KEYS: dict[str, tuple[type, ...]] = {
    "passed": (bool,),
    "decision": (str,),
    "action": (dict, type(None)),
    "change": (dict, type(None)),
}


def read_decision(folder: str | Path | None, *, strict: bool = False) -> dict[str, Any]:
    """A gate run's record (``{}`` when there is none, or it is unreadable or damaged).

    With ``strict``, a file that is there but unreadable, not JSON, or with a key of the wrong
    type (``decision_problem``) raises ``StoreError`` naming it and how to go on."""
    if not folder:
        return {}
    path = Path(folder) / GATE_FILE
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        problem = decision_problem(data)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        problem = getattr(e, "strerror", None) or f"not valid JSON ({e})"
    if problem is None:
        return dict(data)
    if strict:
        raise StoreError(
            f"damaged gate record {path}: {problem}; run the gate again "
            "(`mlops-nb pipeline run --force GATE`) or restore the file."
        )
    return {}


def decision_problem(data: Any) -> str | None:
    """What is wrong with a ``gate.json`` (None: nothing): a key readers act on (``passed``,
    ``decision``, ``action`` and its ``promote``/``alias``, ``change`` and its ``aliases``) of
    the wrong type."""
    if not isinstance(data, dict):
        return "not a JSON object"
    inner: dict[str, dict[str, type]] = {
        "action": {"promote": str, "alias": list},
        "change": {"aliases": list},
    }
    for key, types in _KEYS.items():
        value = data.get(key)
        if key in data and not isinstance(value, types):
            return f"{key!r} is {type(value).__name__}, not {types[0].__name__}"
        for sub, kind in inner.get(key, {}).items():
            if isinstance(value, dict) and sub in value and not isinstance(value[sub], kind):
                return f"'{key}.{sub}' is {type(value[sub]).__name__}, not {kind.__name__}"
    return None
