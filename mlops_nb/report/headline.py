"""The headline of one pipeline invocation: the DAG (each step's status, whether it ran, its key
numbers), the best model, metrics against their baselines, the drift alarm and, under the newest
invocation, the model registry (``runs/registry/<MODEL>.json``, see ``mlops_nb.registry``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_nb.report.markup import anchor, e, is_num, label, short
from mlops_nb.report.model import headline_anchor
from mlops_nb.report.views import Invocation, StepView


def _levels(steps: Sequence[StepView]) -> list[list[StepView]]:
    names = {s.name for s in steps}
    level: dict[str, int] = {}
    for _ in steps:  # relax until stable: the DAG is small
        for s in steps:
            ups = [level.get(u, 0) for u in s.upstream if u in names]
            level[s.name] = 1 + max(ups, default=-1)
    out: dict[int, list[StepView]] = {}
    for s in steps:
        out.setdefault(level[s.name], []).append(s)
    return [out[k] for k in sorted(out)]


def _key_numbers(step: StepView) -> list[tuple[str, Any]]:
    if step.show:
        return [(k, step.scraps[k]) for k in step.show if k in step.scraps]
    nums = [(k, v) for k, v in step.scraps.items() if is_num(v) or isinstance(v, bool)]
    return nums[:4]


def _step_box(step: StepView, links: Mapping[str, str]) -> str:
    status = step.status or "not run"
    numbers = "".join(f"<li>{e(k)} = {short(v)}</li>" for k, v in _key_numbers(step))
    detail = f'<li class="muted">{e(step.detail)}</li>' if step.detail and not numbers else ""
    href = links.get(step.name)
    tag, attr = ("a", f' href="#{e(href)}"') if href else ("div", "")
    return (
        f'<{tag} class="step {e(status)}"{attr}><b>{e(step.name)}</b>'
        f'<span class="badge {e(status)}">{e(status)}</span>'
        f'<span class="badge">{e(step.action)}</span><ul>{numbers}{detail}</ul></{tag}>'
    )


def _best_model(
    inv: Invocation, grids: Mapping[str, Sequence[str]], chosen_by: Mapping[str, str]
) -> str:
    items = []
    for s in inv.steps:
        if not s.sweep or not s.run_id:
            continue
        chosen = ", ".join(
            f"{e(label(p))}={e(s.params.get(label(p)))}" for p in grids.get(s.name, ())
        )
        shown = ", ".join(f"{e(k)} {short(v)}" for k, v in _key_numbers(s)[:3])
        detail = s.detail or chosen_by.get(s.name, "")
        items.append(
            f'<p><span class="big">{chosen or e(s.run_id)}</span><br>'
            f"{e(s.name)}: {shown}<br>"
            f'<span class="muted">{e(detail)} · run <a href="#{anchor(s.run_id)}">'
            f"{e(s.run_id)}</a></span></p>"
        )
    if not items:
        return ""
    return '<div class="card best"><h3>Best model</h3>' + "".join(items) + "</div>"


def _baselines(inv: Invocation) -> str:
    rows = []
    for s in inv.steps:
        for k, v in s.scraps.items():
            base = s.scraps.get(f"baseline_{k}")
            if not (is_num(v) and is_num(base)) or (s.show and k not in s.show):
                continue
            rows.append(
                f"<tr><td>{e(s.name)}</td><td>{e(k)}</td><td class='num'><b>{short(v)}</b></td>"
                f"<td class='num'>{short(base)}</td><td class='num'>{short(v - base)}</td></tr>"
            )
    if not rows:
        return ""
    return (
        '<div class="card baseline"><h3>Against the baseline</h3><table><tr><th>step</th>'
        "<th>metric</th><th>model</th><th>baseline</th><th>difference</th></tr>"
        + "".join(rows)
        + "</table></div>"
    )


def _drift(inv: Invocation) -> str:
    flags = [
        (s, k, v)
        for s in inv.steps
        for k, v in s.scraps.items()
        if isinstance(v, bool) and any(w in k.lower() for w in ("drift", "alarm", "alert"))
    ]
    if not flags:
        return ""
    raised = [(s, k) for s, k, v in flags if v]
    notes = [
        f"<br>{e(s.name)}: {e(k)}: {e(v)}"
        for s in inv.steps
        for k, v in s.scraps.items()
        if isinstance(v, str) and "drift" in k.lower()
    ]
    if raised:
        what = ", ".join(f"{e(s.name)}: {e(k)}" for s, k in raised)
        return (
            '<div class="card alarm drift"><h3>Drift alarm</h3>'
            f'<p><span class="big">raised</span><br>{what}{"".join(notes)}</p></div>'
        )
    return (
        '<div class="card calm drift"><h3>Drift</h3><p><span class="big">no alarm</span></p></div>'
    )


def _model_entry(name: str, doc: Mapping[str, Any], runs_dir: Path) -> str:
    from mlops_nb.store.hints import command

    approve, reject = (command(verb, name, runs_dir=runs_dir) for verb in ("approve", "reject"))
    runs = {v.get("version"): v.get("run_id") for v in doc.get("versions", [])}
    aliases = ", ".join(
        f'{e(a)} v{e(v)} (run <a href="#{anchor(str(runs.get(v)))}">{e(runs.get(v))}</a>)'
        for a, v in sorted((doc.get("aliases") or {}).items())
    )
    pending = "".join(
        f'<p class="pending">pending approval: v{e(p.get("version"))} → '
        f"{e(', '.join(p.get('aliases', [])))} "
        f"(<code>{e(approve)}</code> or <code>{e(reject)}</code>)</p>"
        for p in doc.get("pending", [])
    )
    moves = "".join(
        f'<li class="muted">{e(h.get("at"))} {e(h.get("action"))} '
        f"{e(', '.join(h.get('aliases', [])))} → v{e(h.get('to'))} by {e(h.get('by'))}"
        + (f": {e(h.get('reason'))}" if h.get("reason") else "")
        + "</li>"
        for h in (doc.get("history") or [])[-3:][::-1]
    )
    return f"<p><b>{e(name)}</b>: {aliases or 'no alias set'}</p>{pending}<ul>{moves}</ul>"


def registry_card(runs_dir: Path) -> str:
    """The deployment state: each registered model's aliases, its pending approvals (human in
    the loop) and its last moves (``runs/registry/<MODEL>.json``, see ``mlops_nb.registry``)."""
    from mlops_nb.errors import MlopsNbError
    from mlops_nb.registry import store as registry

    items = []
    for name in registry.model_names(runs_dir):
        try:
            doc = registry.read_model(runs_dir, name) or {}
        except MlopsNbError as err:  # a corrupt registry file: say so, the report still renders
            items.append(f"<p><b>{e(name)}</b>: <span class='muted'>{e(err.message)}</span></p>")
            continue
        items.append(_model_entry(name, doc, runs_dir))
    if not items:
        return ""
    return '<div class="card registry"><h3>Model registry</h3>' + "".join(items) + "</div>"


def headline(
    inv: Invocation,
    links: Mapping[str, str],
    grids: Mapping[str, Sequence[str]],
    chosen_by: Mapping[str, str],
    registry: str = "",
) -> list[str]:
    """The headline's HTML lines. ``links``: step → the id of its section on the page;
    ``grids``: step → its varying parameters; ``chosen_by``: step → how its best run was chosen;
    ``registry``: the registry card (under the newest invocation only)."""
    state = "in progress" if inv.ok is None else ("ok" if inv.ok else "failed")
    when = f" · finished {e(inv.finished_at)}" if inv.finished_at else ""
    dag = '<div class="arrow">→</div>'.join(
        '<div class="level">' + "".join(_step_box(s, links) for s in level) + "</div>"
        for level in _levels(inv.steps)
    )
    cards = _best_model(inv, grids, chosen_by) + _baselines(inv) + _drift(inv) + registry
    return [
        f'<section class="headline" id="{e(headline_anchor(inv.pipeline, inv.id))}">',
        f'<h2>Pipeline {e(inv.pipeline)} <span class="badge {state}">{state}</span></h2>',
        f'<p class="muted">invocation {e(inv.id)}{when}</p>',
        f'<div class="dag">{dag}</div>',
        f'<div class="cards">{cards}</div>' if cards else "",
        "</section>",
    ]
