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
    "approval": (str,),
    "action": (dict, type(None)),
    "change": (dict, type(None)),
}
APPROVALS = ("human", "auto", "none")  # pipeline.gate's ``approval:``
# The registry entries a gate's promotion makes (registry.api.promote).
CHANGES = ("request", "promote", "unchanged")


def read_decision(folder: str | Path | None, *, again: str | None = None) -> dict[str, Any]:
    """A gate run's record (``{}`` when there is none, or it is unreadable or damaged).

    With ``again`` (the full command that runs the gate again, e.g. ``mlops-nb pipeline run
    --force gate p.yaml``: ``pipeline.hints.rerun_gate``), a file that is there but unreadable,
    not JSON, or damaged (``decision_problem``) raises ``StoreError`` naming it and that command."""
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
    if again is not None:
        raise StoreError(
            f"damaged gate record {path}: {problem}; run the gate again (`{again}`) or restore "
            "the file."
        )
    return {}


def decision_problem(data: Any) -> str | None:
    """What is wrong with a ``gate.json`` (None: nothing), by the kind of decision the gate
    wrote (``pipeline.gate.decide``): ``passed`` (true/false), ``decision`` (text) and
    ``approval`` (human, auto, none) always; ``action`` (null, or ``promote`` text and ``alias``
    list of text); ``change`` null unless the gate acted (rule true, an action, approval not
    none), then the registry's entry: ``action`` request/promote/unchanged, ``aliases`` (text),
    ``to`` (a version number) and, but for unchanged, ``seq`` (its history entry)."""
    if not isinstance(data, dict):
        return "not a JSON object"
    for key, types in _KEYS.items():
        if key not in data:
            return f"it has no {key!r}"
        value = data[key]
        if not isinstance(value, types):
            return f"{key!r} is {type(value).__name__}, not {types[0].__name__}"
    if data["approval"] not in APPROVALS:
        return f"'approval' is {data['approval']!r}, not one of {', '.join(APPROVALS)}"
    action, change = data["action"], data["change"]
    if action is not None and (
        not isinstance(action.get("promote"), str) or not _texts(action.get("alias"))
    ):
        return "'action' has no model ('promote') or no list of aliases ('alias')"
    acted = data["passed"] and action is not None and data["approval"] != "none"
    if not acted:
        return None if change is None else "'change' is set although the gate did not act"
    return _change_problem(change)


def _change_problem(change: Any) -> str | None:
    if not isinstance(change, dict):
        return "'change' is missing although the gate acted"
    if change.get("action") not in CHANGES:
        return f"'change.action' is {change.get('action')!r}, not one of {', '.join(CHANGES)}"
    if not _texts(change.get("aliases")):
        return "'change.aliases' is not a list of aliases"
    numbers = ("to",) if change["action"] == "unchanged" else ("to", "seq")
    for key in numbers:
        value = change.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            return f"'change.{key}' is {value!r}, not a number"
    return None


def _texts(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
