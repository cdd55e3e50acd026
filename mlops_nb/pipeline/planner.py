"""Planning a pipeline run, without I/O: which steps are stale and why, which will run, in which
waves, and what happens to each step when its turn comes.

Everything here is a pure function of the pipeline, the stored step states
(``pipeline.state``) and what was read of the world for each step (``Observed``: its fingerprint
parts now, ``pipeline.fingerprint``, and whether its last run folder is still there). Reading
the world is ``pipeline.engine.observe``; running steps is ``pipeline.engine``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops_nb.pipeline.steps import Plan

if TYPE_CHECKING:
    from mlops_nb.pipeline import fingerprint as fp
    from mlops_nb.pipeline.spec import Pipeline, Step
    from mlops_nb.pipeline.state import StepState

Force = bool | set[str]  # True: every step; a set: those steps


@dataclass(frozen=True)
class Observed:
    """What was read of the world for one step: its fingerprint parts now, whether its last run
    folder still exists, and whether that run's notebook ran without a kernel error (True when
    there is no such folder to read)."""

    parts: fp.Parts
    folder_exists: bool = False
    ran_clean: bool = True


@dataclass(frozen=True)
class Decision:
    """What a step's turn brings: ``run``, ``skip``, ``blocked``, ``waiting`` or ``held``."""

    action: str
    detail: str = ""


def plan_step(step: Step, seen: Observed, states: Mapping[str, StepState]) -> Plan:
    """The step's plan: its fingerprint, and every reason it is stale (none: up to date)."""
    from mlops_nb.pipeline import fingerprint as fp

    digest = seen.parts.digest()
    old = states.get(step.name)
    reasons = fp.reasons(old.parts if old else None, seen.parts)
    if old is not None:
        reasons += _state_reasons(step, old, seen, states, reasons)
        if old.fingerprint != digest and not reasons:
            reasons.append("fingerprint changed")
    return Plan(step, seen.parts, digest, reasons)


def _state_reasons(
    step: Step, old: StepState, seen: Observed, states: Mapping[str, StepState], so_far: list[str]
) -> list[str]:
    """Why the step's last run cannot stand, whatever its fingerprint says."""
    why: list[str] = []
    if old.status != "ok":
        why.append(f"last run {old.status}")
    # a run folder: notebook and sweep steps (gates and reports keep no notebook)
    elif step.kind in ("notebook", "sweep") and old.run_folder and not seen.ran_clean:
        why.append("last run stopped at a kernel error")
    if (
        step.report is None
        and (old.run_folder or old.status == "ok")  # a failed first attempt never had one
        and not (old.run_folder and seen.folder_exists)
    ):
        why.append("its run folder is gone")
    for up in step.upstream:
        current = states.get(up)
        if (
            current
            and old.consumed.get(up) != current.run_id
            and not any(r.startswith(f"upstream {up} ") for r in [*so_far, *why])
        ):
            why.append(f"upstream {up} was re-run")
    return why


def certainly_stale(
    pipeline: Pipeline, states: Mapping[str, StepState], force: Force = False
) -> list[str]:
    """The steps that are stale whatever planning finds (never run, last attempt not ok, or
    forced), read from the states alone: known before any fingerprint is computed."""
    return [
        name
        for name in pipeline.order()
        if (s := states.get(name)) is None or s.status != "ok" or forced(name, force)
    ]


def forced(name: str, force: Force) -> bool:
    return force is True or (isinstance(force, set) and name in force)


def schedule(
    pipeline: Pipeline, plans: Mapping[str, Plan], force: Force = False
) -> list[list[Plan]]:
    """The steps a ``pipeline run`` would run, wave by wave (``Pipeline.levels``; the steps of a
    wave run at the same time), each with why: stale, forced (``--force``), or downstream of a
    step that runs (it will receive a new run). Gates may still hold steps back when they run."""
    waves: list[list[Plan]] = []
    runs: set[str] = set()
    for level in pipeline.levels():
        wave = []
        for name in level:
            p = plans[name]
            why = list(p.reasons) or (["forced"] if forced(name, force) else [])
            why += [f"upstream {u} runs" for u in p.step.upstream if u in runs and not p.reasons]
            if why:
                runs.add(name)
                wave.append(Plan(p.step, p.parts, p.fingerprint, why))
        if wave:
            waves.append(wave)
    return waves


def decide(
    step: Step,
    plan: Plan,
    *,
    failed: set[str],
    held: Mapping[str, tuple[str, str]],
    cancelled: bool,
    force: Force = False,
) -> Decision:
    """What to do with ``step`` when its wave comes, given the upstream steps that did not
    succeed (``failed``) and what the gates upstream decided (``held``: step -> (waiting|held,
    why)). A report step runs even while a gate holds the others back."""
    blocked = [u for u in step.upstream if u in failed]
    holding = sorted((held[u] for u in step.upstream if u in held), reverse=True)
    if holding and not blocked and step.kind != "report" and not cancelled:
        return Decision(*holding[0])  # "waiting" before "held"
    if blocked:
        return Decision("blocked", f"upstream {', '.join(blocked)} did not succeed")
    if cancelled:
        return Decision("blocked", "interrupted before it started")
    if plan.stale or forced(step.name, force):
        return Decision("run")
    return Decision("skip")
