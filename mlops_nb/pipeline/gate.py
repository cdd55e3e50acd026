"""The ``gate`` step kind: a rule over upstream scraps and what to do when it holds.

    promote:
      upstream: [shadow, train]
      gate:
        rule: "not shadow.has_champion or shadow.delta_f1_low > 0"
        action: {promote: rare_events, run: train, alias: [champion, live]}
        approval: human        # human (default) | auto | none

The degrees of automation of the lecture: ``approval: human`` stores a pending promotion that
``mlops-nb approve MODEL`` completes (human in the loop); ``auto`` promotes at once (full
automation); ``none``, or no ``action``, only evaluates and records the rule (human inspection).
``run`` names the upstream step whose run is promoted (a sweep: its selected run).

Each evaluation writes ``<runs>/pipelines/<name>/gates/<id>/gate.json`` (rule, the values it
read, the decision, the registry change) and its id is the step's run id, so downstream steps
re-run when the gate ran again.

A gate also decides whether the steps downstream of it run (see ``holds``): while its promotion
waits for ``mlops-nb approve`` they wait (action ``waiting``), and when its rule is false, or its
promotion was rejected, they do not run (action ``held``); neither fails the pipeline. Report
steps still run.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb.errors import MlopsNbError
from mlops_nb.pipeline import rules
from mlops_nb.store.gates import APPROVALS, GATE_FILE, read_decision
from mlops_nb.store.hints import command

if TYPE_CHECKING:
    from mlops_nb.pipeline.steps import Outcome, StepContext

GATE_KEYS = {"rule", "action", "approval", "reason"}
ACTION_KEYS = {"promote", "run", "alias", "artifact"}


def parse_gate(
    raw: Any, upstream: tuple[str, ...], where: str, problems: list[str]
) -> dict[str, Any] | None:
    """The validated ``gate:`` mapping (rule compiled, names checked), or None with problems."""
    if not isinstance(raw, dict):
        problems.append(f"{where}: 'gate' is a mapping with 'rule:' (and 'action:', 'approval:')")
        return None
    n = len(problems)
    for key in sorted(set(raw) - GATE_KEYS):
        problems.append(
            f"{where}: unknown gate key {key!r} (gate keys: {', '.join(sorted(GATE_KEYS))})"
        )
    try:
        tree = rules.compile_rule(raw.get("rule"))  # type: ignore[arg-type]
        for step, _ in sorted(rules.references(tree)):
            if step not in upstream:
                problems.append(
                    f"{where}: the rule reads {step!r}, which is not an upstream step "
                    f"(add it to 'upstream:')"
                )
    except rules.RuleError as e:
        problems.append(f"{where}: {e.message}")
    approval = raw.get("approval", "human")
    if approval not in APPROVALS:
        problems.append(
            f"{where}: approval must be one of {', '.join(APPROVALS)}, got {approval!r}"
        )
    action = raw.get("action")
    if action is not None:
        action = _parse_action(action, upstream, where, problems)
    if len(problems) > n:
        return None
    return {
        "rule": raw["rule"],
        "action": action,
        "approval": approval,
        "reason": raw.get("reason"),
    }


def _parse_action(
    raw: Any, upstream: tuple[str, ...], where: str, problems: list[str]
) -> dict[str, Any] | None:
    shape = "action is {promote: MODEL, run: STEP, alias: ALIAS or [ALIAS, ...]}"
    if not isinstance(raw, dict) or not isinstance(raw.get("promote"), str):
        problems.append(f"{where}: {shape}")
        return None
    for key in sorted(set(raw) - ACTION_KEYS):
        problems.append(f"{where}: unknown action key {key!r}; {shape}")
    run = raw.get("run")
    if run not in upstream:
        problems.append(
            f"{where}: action run {run!r} must name an upstream step whose run is promoted"
        )
    aliases = raw.get("alias")
    aliases = [aliases] if isinstance(aliases, str) else aliases
    if not isinstance(aliases, list) or not aliases:
        problems.append(f"{where}: {shape}")
        return None
    from mlops_nb.registry import store

    try:
        store.check_model_name(raw["promote"])
        for a in aliases:
            store.check_alias(str(a))
    except MlopsNbError as e:
        problems.append(f"{where}: {e.message}")
    return {
        "promote": raw["promote"],
        "run": run,
        "alias": [str(a) for a in aliases],
        "artifact": str(raw.get("artifact") or "model.joblib"),
    }


def decide(
    gate: Mapping[str, Any],
    scraps: Mapping[str, Mapping[str, Any]],
    run_ids: Mapping[str, str | None],
    *,
    runs_dir: Path,
    who: str,
) -> dict[str, Any]:
    """Evaluate the rule and act; the decision record. ``RuleError``/``StoreError`` propagate."""
    from mlops_nb.registry import api

    passed = rules.evaluate(gate["rule"], scraps)
    tree = rules.compile_rule(gate["rule"])
    values = {
        f"{s}.{k}": _json_safe(scraps.get(s, {}).get(k)) for s, k in sorted(rules.references(tree))
    }
    action, approval = gate.get("action"), gate["approval"]
    change = None
    if not passed:
        decision = "not promoted (rule is false)"
    elif action is None or approval == "none":
        decision = "report only (human inspection)"
    else:
        run_id = run_ids.get(action["run"])
        if not run_id:
            raise MlopsNbError(f"upstream step {action['run']!r} has no run to promote")
        reason = gate.get("reason") or f"{who}: {gate['rule']}"
        c = api.promote(
            runs_dir,
            action["promote"],
            run_id,
            action["alias"],
            reason=reason,
            require_approval=approval == "human",
            artifact=action["artifact"],
            requested_by=who,
        )
        change = c.entry
        version = f"{action['promote']} v{change['to']} -> {', '.join(action['alias'])}"
        decision = f"pending approval: {version}" if approval == "human" else f"promoted {version}"
        if change["action"] == api.UNCHANGED:
            decision = f"unchanged: {version} already"
    return {
        "rule": gate["rule"],
        "passed": passed,
        "values": values,
        "approval": approval,
        "action": action,
        "decision": decision,
        "change": change,
    }


def _json_safe(value: Any) -> Any:
    """NaN and infinities as strings: gate.json stays strict JSON (RFC 8259)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def prepare(pipeline: Any, run_id: str) -> None:
    """A gate needs nothing ahead of time (``pipeline.steps.StepKind``)."""


def run(ctx: StepContext) -> Outcome:
    """A gate step (a ``pipeline.steps.StepKind``): decide, record ``gate.json``, promote."""
    from mlops_nb.pipeline.steps import Outcome, remember, scraps_of

    step = ctx.step
    assert step.gate is not None  # the kind is "gate" exactly when it has one (Step.kind)
    t0 = time.monotonic()
    scraps = {u: scraps_of(ctx.states[u].run_folder) for u in step.upstream}
    ids = {u: ctx.states[u].run_id for u in step.upstream}
    try:
        gate_id, folder, record = _record(ctx, step.gate, scraps, ids)
    except (MlopsNbError, OSError) as e:
        why = e.message if isinstance(e, MlopsNbError) else f"cannot record the gate: {e.strerror}"
        # remembered as failed: `pipeline status` says "last run failed", not "never run"
        remember(ctx, "failed")
        return ctx.failed(why)
    remember(ctx, "ok", gate_id, str(folder.resolve()))
    return Outcome(
        step.name,
        "ran",
        status="ok",
        run_id=gate_id,
        run_folder=str(folder),
        reasons=ctx.plan.reasons,
        scraps={"passed": record["passed"]},
        detail=record["decision"],  # also lands in the pipeline run record
        seconds=time.monotonic() - t0,
    )


def _record(
    ctx: StepContext,
    gate: Mapping[str, Any],
    scraps: Mapping[str, Mapping[str, Any]],
    ids: Mapping[str, str | None],
) -> tuple[str, Path, dict[str, Any]]:
    """Decide and write ``gate.json``: (gate id, its folder, the record). The folder is made
    first, so a promotion is never left without its record; it is removed when deciding fails."""
    from mlops_nb.notebook.io import atomic_write_text
    from mlops_nb.store import runs as store

    pipeline, step = ctx.pipeline, ctx.step
    gate_id = store.new_run_id(step.name)
    folder = ctx.runs_dir / "pipelines" / pipeline.name / "gates" / gate_id
    try:
        folder.mkdir(parents=True)
        record = decide(
            gate, scraps, ids, runs_dir=ctx.runs_dir, who=requester(pipeline.name, step.name)
        )
        record = {
            "id": gate_id,
            "pipeline": pipeline.name,
            "pipeline_run": ctx.run_id,
            "step": step.name,
            "at": store.utc_now(),
            **record,
        }
        text = json.dumps(record, indent=1, allow_nan=False, default=str) + "\n"
        atomic_write_text(folder / GATE_FILE, text)
    except (MlopsNbError, OSError):
        with contextlib.suppress(OSError):
            folder.rmdir()
        raise
    return gate_id, folder, record


def holds(step: str, folder: str | None, runs_dir: Path, again: str) -> tuple[str, str] | None:
    """``(action, why)`` for the steps downstream of the gate ``step`` whose last decision is in
    ``folder``, or None when they may run.

    ``("waiting", ...)`` while its promotion is pending (human in the loop: they run in the
    ``pipeline run`` after ``mlops-nb approve MODEL``); ``("held", ...)`` when its rule was false
    or its promotion was rejected or replaced by another request (they run when the gate runs
    again and opens). What the registry says now decides, as for an MLflow user whose serving
    follows ``models:/MODEL@ALIAS``: once the aliases point at the version the gate asked for
    (approved, or promoted by hand after a rejection), the steps after it run. The held line
    says where the aliases point and how to go on (``again``: the command that runs the gate
    again, ``pipeline.hints.rerun_gate``). Reads ``gate.json`` and
    ``<runs>/registry/<MODEL>.json``; ``StoreError`` when ``gate.json`` is damaged.
    """
    from mlops_nb.registry import pending as requests
    from mlops_nb.registry import store as rs

    decision = read_decision(folder, again=again)
    if not decision:
        return None
    if decision.get("passed") is False:
        return "held", f"gate {step} is closed: {decision.get('decision')}"
    change = decision.get("change") or {}
    action = decision.get("action") or {}
    if change.get("action") != "request" or not action.get("promote"):
        return None
    model = str(action["promote"])
    doc = rs.read_model(runs_dir, model) or {}
    seq, to = change.get("seq"), change.get("to")
    wanted = [str(a) for a in change.get("aliases") or action.get("alias") or []]
    now = doc.get("aliases") or {}
    if all(now.get(a) == to for a in wanted):
        return None  # approved, or promoted by hand: where the gate wanted them
    pending = doc.get("pending") or []
    if any(p.get("seq") == seq for p in pending):
        # other requests pending too: `approve MODEL` alone would ask which, so name these
        mine = [a for p in pending if p.get("seq") == seq for a in p["aliases"]]
        others = any(p.get("seq") != seq for p in pending)
        which = [w for a in mine for w in ("--alias", a)] if others else []
        return (
            "waiting",
            f"pending approval: {command('approve', model, *which, runs_dir=runs_dir)}",
        )
    ended = requests.outcomes(doc, seq, to, wanted)
    if wanted and all(ended[a] in requests.SETTLED for a in wanted):
        return None  # approved or settled by hand; later moves of the aliases do not re-close it
    return "held", _not_approved(step, model, to, (wanted, ended, now), runs_dir, again)


def _not_approved(
    step: str,
    model: str,
    to: Any,
    aliases: tuple[list[str], dict[str, str], Mapping[str, Any]],
    runs_dir: Path,
    again: str,
) -> str:
    """``gate G: the promotion of m v2 -> live was rejected (live is at v1); to go on, ...``."""
    from mlops_nb.registry.pending import SETTLED

    wanted, ended, now = aliases  # the request's, how each ended, where each is now
    how = {"reject": "rejected", "replace": "replaced by another request"}
    ends = sorted({how.get(ended[a], "dropped") for a in wanted if ended[a] not in SETTLED})
    away = [a for a in wanted if now.get(a) != to]
    where = ", ".join(f"{a} is at v{now[a]}" if a in now else f"{a} is not set" for a in away)
    flags = [w for a in away for w in ("--alias", a)]
    promote = command("promote", model, f"v{to}", *flags, runs_dir=runs_dir)
    # a newer version there: the command rolls it back, which must be said
    back = [f"{a} from v{now[a]}" for a in away if isinstance(now.get(a), int) and now[a] > to]
    moves = f"; it moves {', '.join(back)} back to v{to}" if back else ""
    return (
        f"gate {step}: the promotion of {model} v{to} -> {', '.join(wanted)} was "
        f"{' / '.join(ends)} ({where}); to go on, promote it by hand (`{promote}`{moves}) or "
        f"run the gate again (`{again}`)"
    )


def held_steps(
    pipeline: Any, runs_dir: Path, again: Callable[[str], str]
) -> dict[str, tuple[str, str]]:
    """``{step: (waiting|held, why)}`` as the gates' last decisions stand (``pipeline status``):
    the steps the next ``pipeline run`` holds back unless a gate runs again (see ``holds``;
    ``again(gate)``: the command that runs that gate again, ``pipeline.hints.rerun_gate``)."""
    from mlops_nb.pipeline.state import StateStore

    states = StateStore(runs_dir, pipeline.name).load()
    held: dict[str, tuple[str, str]] = {}
    for name in pipeline.order():
        step = pipeline.steps[name]
        by = sorted((held[u] for u in step.upstream if u in held), reverse=True)
        if by and step.kind != "report":
            held[name] = by[0]  # "waiting" before "held", as the engine does
            continue
        st = states.get(name)
        ok = step.gate and st and st.status == "ok"
        h = holds(name, st.run_folder, runs_dir, again(name)) if ok and st else None
        if h:
            held[name] = h
    return held


def pending_approvals(pipeline: Any, runs_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """``{gate step: [its pending promotions, ...]}`` for ``pipeline status``."""
    from mlops_nb.registry import api

    out: dict[str, list[dict[str, Any]]] = {}
    for name, step in pipeline.steps.items():
        action = (step.gate or {}).get("action")
        if not action:
            continue
        for model, item in api.pending(runs_dir, [action["promote"]]):
            if item.get("requested_by") == requester(pipeline.name, name):
                out.setdefault(name, []).append({"model": model, **item})
    return out


def requester(pipeline: str, step: str) -> str:
    """Who a gate's promotions are requested by, in the registry's history."""
    return f"pipeline {pipeline} step {step}"


def downstream_gates(pipeline: Any, step: str) -> frozenset[str]:
    """The requesters of the gates downstream of ``step`` (see ``registry.refs.pinned``)."""
    return frozenset(
        requester(pipeline.name, n) for n in pipeline.downstream(step) if pipeline.steps[n].gate
    )
