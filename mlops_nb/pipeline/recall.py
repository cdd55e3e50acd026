"""What a step that is up to date (``skipped``) shows: what its recorded result says, as the
invocation that ran it showed it. A notebook step: its run's scraps. A sweep step: also the
selected run's grid values and ``best of N runs by METRIC (MODE)``, from the sweep record. A gate:
``passed`` and its decision (``promoted MODEL vN -> ALIAS``), from ``gate.json``. A report step:
the page's path."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb.errors import MlopsNbError
from mlops_nb.store import runs as store
from mlops_nb.store.gates import read_decision

if TYPE_CHECKING:
    from mlops_nb.pipeline.spec import Step
    from mlops_nb.pipeline.state import StepState


@dataclass(frozen=True)
class Recalled:
    """The parts of an ``Outcome`` a skipped step fills from its records."""

    scraps: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    detail: str = ""


def best_of(total: int, metric: Any, mode: Any, failed: int) -> str:
    """A sweep step's detail: ``best of 4 runs by f1 (max)``, and how many failed."""
    return f"best of {total} runs by {metric} ({mode})" + (f"; {failed} failed" if failed else "")


def recall(step: Step, state: StepState, runs_dir: Path) -> Recalled:
    """What ``step``'s last result (``state``) says; parts that cannot be read are left empty."""
    if step.report is not None:
        return Recalled(detail=state.run_folder or "")
    if step.gate is not None:
        decision = read_decision(state.run_folder)
        passed = {"passed": decision["passed"]} if "passed" in decision else {}
        return Recalled(scraps=passed, detail=decided(decision, runs_dir))
    record = _record(state.run_folder)
    scraps = dict(record.get("scraps") or {})
    if not step.grid or not state.sweep_id:
        return Recalled(scraps=scraps)
    params = record.get("params") or {}
    return Recalled(
        scraps=scraps,
        params={k: params.get(k) for k in step.grid},
        detail=_sweep_detail(step, state.sweep_id, runs_dir),
    )


def decided(decision: dict[str, Any], runs_dir: Path) -> str:
    """A gate's decision as it stands now: a promotion that was pending approval when the gate
    ran says, per alias, whether it was approved, rejected, replaced, superseded, promoted by
    hand or dropped since, or still waits (``registry.pending.outcomes`` over
    ``<runs>/registry/<MODEL>.json``): one phrase when every alias ended alike (``promoted m v1
    -> champion, live (approved)``), else ``m v1: champion approved, live rejected``."""
    text = str(decision.get("decision") or "")
    change, action = decision.get("change") or {}, decision.get("action") or {}
    if change.get("action") != "request" or not action.get("promote"):
        return text
    from mlops_nb.registry import pending as requests
    from mlops_nb.registry import store as registry

    try:
        doc = registry.read_model(runs_dir, str(action["promote"])) or {}
    except MlopsNbError:
        return text
    to, model = change.get("to"), str(action["promote"])
    aliases = [str(a) for a in change.get("aliases") or action.get("alias") or []]
    ends = requests.outcomes(doc, change.get("seq"), to, aliases)
    what = text.removeprefix("pending approval: ")
    kinds = set(ends.values())
    if kinds <= {"pending"}:
        return text
    if kinds == {"approve"}:
        return f"promoted {what} (approved)"
    if kinds == {"reject"}:
        return f"rejected: {what}"
    if kinds <= {"replace", "dropped"}:
        return f"not promoted: the request for {what} was replaced or dropped"
    each = ", ".join(f"{a} {_OUTCOME[ends[a]]}" for a in aliases)
    return f"{model} v{to}: {each}"


# How each alias of a gate's request ended (``registry.pending.outcomes``), in its line.
_OUTCOME = {
    "pending": "pending approval",
    "approve": "approved",
    "reject": "rejected",
    "replace": "replaced by another request",
    "supersede": "superseded by a direct promotion",
    "by hand": "promoted by hand",
    "dropped": "dropped",
}


def _record(folder: str | None) -> dict[str, Any]:
    if not folder:
        return {}
    try:
        return store.read_record(Path(folder))
    except MlopsNbError:
        return {}


def _sweep_detail(step: Step, sweep_id: str, runs_dir: Path) -> str:
    from mlops_nb.sweep import record

    try:
        rec = record.load(runs_dir, sweep_id)
    except MlopsNbError:
        rec = None
    if rec is None:
        return ""
    select = step.select or {}
    failed = sum(1 for e in rec.runs if e.status != "ok")
    return best_of(len(rec.runs), select.get("metric"), select.get("mode", "max"), failed)
