"""Build the report page: one HTML file, images embedded, no scripts, no network.

Layout: a headline per pipeline invocation (the DAG with each step's status and key numbers, the
best model, metrics against their baselines, the drift alarm), then one section per pipeline step,
sweep or notebook (its own leaderboard, its metrics against its varying parameters, the images
its best runs saved, its failed runs with their errors, each run's details), then run durations.

Every string that comes from notebooks, parameters, scraps or errors goes through ``_e``
(``html.escape``); the page has no JavaScript and a Content-Security-Policy that allows nothing
but inline styles and ``data:`` images.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb.report import model
from mlops_nb.report.plots import Plot

if TYPE_CHECKING:
    import pandas as pd

    from mlops_nb.results.filter import RunFilter

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1200px;margin:0 auto;padding:1.5em 2em}
h1{margin:.2em 0} h2{margin:1.4em 0 .4em} h3{margin:1em 0 .3em;font-size:15px}
a{color:#0969da;text-decoration:none} a:hover{text-decoration:underline}
.muted{color:#656d76} code,pre{font-size:12px}
pre{background:#fff5f5;border:1px solid #f0c0c0;padding:.5em;overflow-x:auto;white-space:pre-wrap}
nav{font-size:13px;margin:.5em 0 1em} nav a{margin-right:1em}
.card,.section,.headline{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1em 1.2em;margin:1em 0}
.headline h2{margin-top:0}
.dag{display:flex;align-items:stretch;gap:.4em;flex-wrap:wrap;margin:.6em 0}
.level{display:flex;flex-direction:column;gap:.4em;justify-content:center}
.arrow{align-self:center;color:#8c959f;font-size:20px}
.step{display:block;border:1px solid #d0d7de;border-left:5px solid #8c959f;border-radius:6px;padding:.4em .7em;min-width:11em;color:inherit;background:#fff}
.step.ok{border-left-color:#1a7f37} .step.failed,.step.timeout,.step.interrupted{border-left-color:#cf222e;background:#fff5f5}
.step b{font-size:14px} .step ul{margin:.2em 0 0;padding:0;list-style:none;font-size:12px}
.badge{display:inline-block;font-size:11px;border-radius:10px;padding:0 .5em;background:#eaeef2;margin-left:.3em}
.badge.ok{background:#dafbe1;color:#1a7f37} .badge.failed,.badge.timeout,.badge.interrupted{background:#ffebe9;color:#cf222e}
.cards{display:flex;gap:1em;flex-wrap:wrap} .cards .card{flex:1 1 18em;margin:0}
.card.alarm{border-color:#cf222e;background:#fff5f5} .card.calm{border-color:#1a7f37}
.big{font-size:20px;font-weight:600}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}
th,td{border:1px solid #d8dee4;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;white-space:nowrap} th.sort,td.sort{background:#fff8c5;font-weight:600}
tr.failed td,tr.timeout td,tr.interrupted td{background:#fff5f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.plot{display:inline-block;margin:0 1em 1em 0;vertical-align:top} .plot img{max-width:100%}
.images figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}
.images img{max-width:420px;max-height:360px;border:1px solid #d8dee4}
details.run{border-top:1px solid #eaeef2;padding:.3em 0} details.run summary{cursor:pointer}
"""


def _e(value: Any) -> str:
    """Escaped text of any value (pd.NA and None are empty)."""
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return html.escape(f"{value:.6g}")
    if isinstance(value, pd.Timestamp):
        return html.escape(value.strftime("%Y-%m-%d %H:%M:%S"))
    return html.escape(str(value), quote=True)


def _short(value: Any) -> str:
    """A number for the headline (4 significant digits), anything else escaped."""
    if isinstance(value, float):
        return html.escape(f"{value:.4g}")
    return _e(value)


def _anchor(run_id: str) -> str:
    return "run-" + html.escape(run_id, quote=True)


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: Any, *, null: bool = False, cls: str = "") -> str:
    classes = " ".join(c for c in ("num" if _is_num(value) else "", cls) if c)
    attr = f' class="{classes}"' if classes else ""
    import pandas as pd

    if null and (value is None or value is pd.NA):
        return f"<td{attr}>None</td>"
    return f"<td{attr}>{_e(value)}</td>"


def _label(name: str) -> str:
    return name.split(".", 1)[1] if name.startswith(("params.", "scraps.")) else name


# ---- headline ---------------------------------------------------------------------------------


def _levels(steps: Sequence[model.StepView]) -> list[list[model.StepView]]:
    names = {s.name for s in steps}
    level: dict[str, int] = {}
    for _ in steps:  # relax until stable: the DAG is small
        for s in steps:
            ups = [level.get(u, 0) for u in s.upstream if u in names]
            level[s.name] = 1 + max(ups, default=-1)
    out: dict[int, list[model.StepView]] = {}
    for s in steps:
        out.setdefault(level[s.name], []).append(s)
    return [out[k] for k in sorted(out)]


def _key_numbers(step: model.StepView) -> list[tuple[str, Any]]:
    if step.show:
        return [(k, step.scraps[k]) for k in step.show if k in step.scraps]
    nums = [(k, v) for k, v in step.scraps.items() if _is_num(v) or isinstance(v, bool)]
    return nums[:4]


def _step_box(step: model.StepView, links: Mapping[str, str]) -> str:
    status = step.status or "not run"
    numbers = "".join(f"<li>{_e(k)} = {_short(v)}</li>" for k, v in _key_numbers(step))
    detail = f'<li class="muted">{_e(step.detail)}</li>' if step.detail and not numbers else ""
    href = links.get(step.name)
    tag, attr = ("a", f' href="#{_e(href)}"') if href else ("div", "")
    return (
        f'<{tag} class="step {_e(status)}"{attr}><b>{_e(step.name)}</b>'
        f'<span class="badge {_e(status)}">{_e(status)}</span>'
        f'<span class="badge">{_e(step.action)}</span><ul>{numbers}{detail}</ul></{tag}>'
    )


def _best_model(
    inv: model.Invocation, grids: Mapping[str, Sequence[str]], chosen_by: Mapping[str, str]
) -> str:
    items = []
    for s in inv.steps:
        if not s.sweep or not s.run_id:
            continue
        chosen = ", ".join(
            f"{_e(_label(p))}={_e(s.params.get(_label(p)))}" for p in grids.get(s.name, ())
        )
        shown = ", ".join(f"{_e(k)} {_short(v)}" for k, v in _key_numbers(s)[:3])
        detail = s.detail or chosen_by.get(s.name, "")
        items.append(
            f'<p><span class="big">{chosen or _e(s.run_id)}</span><br>'
            f"{_e(s.name)}: {shown}<br>"
            f'<span class="muted">{_e(detail)} · run <a href="#{_anchor(s.run_id)}">'
            f"{_e(s.run_id)}</a></span></p>"
        )
    if not items:
        return ""
    return '<div class="card best"><h3>Best model</h3>' + "".join(items) + "</div>"


def _baselines(inv: model.Invocation) -> str:
    rows = []
    for s in inv.steps:
        for k, v in s.scraps.items():
            base = s.scraps.get(f"baseline_{k}")
            if not (_is_num(v) and _is_num(base)) or (s.show and k not in s.show):
                continue
            rows.append(
                f"<tr><td>{_e(s.name)}</td><td>{_e(k)}</td><td class='num'><b>{_short(v)}</b></td>"
                f"<td class='num'>{_short(base)}</td><td class='num'>{_short(v - base)}</td></tr>"
            )
    if not rows:
        return ""
    return (
        '<div class="card baseline"><h3>Against the baseline</h3><table><tr><th>step</th>'
        "<th>metric</th><th>model</th><th>baseline</th><th>difference</th></tr>"
        + "".join(rows)
        + "</table></div>"
    )


def _drift(inv: model.Invocation) -> str:
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
        f"<br>{_e(s.name)}: {_e(k)}: {_e(v)}"
        for s in inv.steps
        for k, v in s.scraps.items()
        if isinstance(v, str) and "drift" in k.lower()
    ]
    if raised:
        what = ", ".join(f"{_e(s.name)}: {_e(k)}" for s, k in raised)
        return (
            '<div class="card alarm drift"><h3>Drift alarm</h3>'
            f'<p><span class="big">raised</span><br>{what}{"".join(notes)}</p></div>'
        )
    return (
        '<div class="card calm drift"><h3>Drift</h3><p><span class="big">no alarm</span></p></div>'
    )


def _registry(runs_dir: Path) -> str:
    """The deployment state: each registered model's aliases, its pending approvals (human in
    the loop) and its last moves (``runs/registry/<MODEL>.json``, see ``mlops_nb.registry``)."""
    from mlops_nb.errors import MlopsNbError
    from mlops_nb.registry import store as registry

    items = []
    for name in registry.model_names(runs_dir):
        try:
            doc = registry.read_model(runs_dir, name) or {}
        except MlopsNbError as e:  # a corrupt registry file: say so, the report still renders
            items.append(f"<p><b>{_e(name)}</b>: <span class='muted'>{_e(e.message)}</span></p>")
            continue
        runs = {v.get("version"): v.get("run_id") for v in doc.get("versions", [])}
        aliases = ", ".join(
            f'{_e(a)} v{_e(v)} (run <a href="#{_anchor(str(runs.get(v)))}">{_e(runs.get(v))}</a>)'
            for a, v in sorted((doc.get("aliases") or {}).items())
        )
        pending = "".join(
            f'<p class="pending">pending approval: v{_e(p.get("version"))} → '
            f"{_e(', '.join(p.get('aliases', [])))} "
            f"(<code>mlops-nb approve {_e(name)}</code> or <code>reject</code>)</p>"
            for p in doc.get("pending", [])
        )
        moves = "".join(
            f'<li class="muted">{_e(h.get("at"))} {_e(h.get("action"))} '
            f"{_e(', '.join(h.get('aliases', [])))} → v{_e(h.get('to'))} by {_e(h.get('by'))}"
            + (f": {_e(h.get('reason'))}" if h.get("reason") else "")
            + "</li>"
            for h in (doc.get("history") or [])[-3:][::-1]
        )
        items.append(
            f"<p><b>{_e(name)}</b>: {aliases or 'no alias set'}</p>{pending}<ul>{moves}</ul>"
        )
    if not items:
        return ""
    return '<div class="card registry"><h3>Model registry</h3>' + "".join(items) + "</div>"


def _headline(
    inv: model.Invocation,
    links: Mapping[str, str],
    grids: Mapping[str, Sequence[str]],
    chosen_by: Mapping[str, str],
    registry: str = "",
) -> list[str]:
    state = "in progress" if inv.ok is None else ("ok" if inv.ok else "failed")
    when = f" · finished {_e(inv.finished_at)}" if inv.finished_at else ""
    dag = '<div class="arrow">→</div>'.join(
        '<div class="level">' + "".join(_step_box(s, links) for s in level) + "</div>"
        for level in _levels(inv.steps)
    )
    cards = _best_model(inv, grids, chosen_by) + _baselines(inv) + _drift(inv) + registry
    return [
        f'<section class="headline" id="headline-{_e(inv.pipeline)}-{_e(inv.id)}">',
        f'<h2>Pipeline {_e(inv.pipeline)} <span class="badge {state}">{state}</span></h2>',
        f'<p class="muted">invocation {_e(inv.id)}{when}</p>',
        f'<div class="dag">{dag}</div>',
        f'<div class="cards">{cards}</div>' if cards else "",
        "</section>",
    ]


# ---- sections ---------------------------------------------------------------------------------


def _columns(sec: model.Section, params: Sequence[str]) -> list[str]:
    scraps = [c for c in sec.df.columns if str(c).startswith("scraps.") and c != sec.sort]
    nums = [c for c in scraps if _numeric(sec.df[c])]
    return [
        *([sec.sort] if sec.sort else []),
        "status",
        *params,
        *nums,
        *[c for c in scraps if c not in nums],
        "duration",
    ]


def _numeric(s: pd.Series) -> bool:
    from mlops_nb.report.plots import numeric

    return numeric(s)


def _leaderboard(sec: model.Section, params: Sequence[str], ascending: bool) -> list[str]:
    from mlops_nb.results.collect import explicit_nulls

    df = sec.df
    nulls = explicit_nulls(df)
    cols = _columns(sec, params)
    arrow = " ▲" if ascending else " ▼"
    head = "".join(
        f'<th class="sort">{_e(_label(c))}{arrow}</th>'
        if c == sec.sort
        else f"<th>{_e(_label(c))}</th>"
        for c in cols
    )
    out = [
        f'<div class="scroll"><table class="leaderboard" id="lb-{_e(sec.key)}">'
        f"<thead><tr><th>#</th><th>run</th>{head}</tr></thead><tbody>"
    ]
    for rank, rec in enumerate(df.to_dict(orient="records"), start=1):
        rid = str(rec["id"])
        label = rec["name"] if isinstance(rec["name"], str) else rid
        out.append(
            f'<tr class="{_e(rec["status"])}"><td class="num">{rank}</td>'
            f'<td><a href="#{_anchor(rid)}">{_e(label)}</a></td>'
            + "".join(
                _cell(rec[c], null=rid in nulls.get(c, ()), cls="sort" if c == sec.sort else "")
                for c in cols
            )
            + "</tr>"
        )
    out.append("</tbody></table></div>")
    return out


def _fixed(sec: model.Section, params: Sequence[str]) -> str:
    from mlops_nb.results.collect import explicit_nulls

    nulls = explicit_nulls(sec.df)
    fixed = []
    for c in sec.df.columns:
        if not str(c).startswith("params.") or c in params:
            continue
        v = sec.df[c].iloc[0]
        text = "None" if nulls.get(str(c)) else _e(v)
        fixed.append(f"{_e(_label(str(c)))}={text}")
    return (
        f'<p class="muted">parameters: {", ".join(fixed)}</p>' if fixed and len(sec.df) > 1 else ""
    )


def _metrics(sec: model.Section, first: Sequence[str]) -> list[str]:
    from mlops_nb.errors import UsageError
    from mlops_nb.results.collect import resolve_column

    named = []
    for m in first:
        try:
            named.append(resolve_column(sec.df, m))
        except UsageError:
            continue
    rest = [
        str(c)
        for c in sec.df.columns
        if str(c).startswith("scraps.") and _numeric(sec.df[c]) and sec.df[c].notna().any()
    ]
    ordered = [*named, *([sec.sort] if sec.sort in rest else []), *rest]
    return [c for c in dict.fromkeys(ordered) if c in rest]


def _figures(plots: Sequence[Plot]) -> str:
    return "".join(
        f'<figure class="plot"><img alt="{_e(p.title)}" src="{p.uri}">'
        f"<figcaption>{_e(p.title)}</figcaption></figure>"
        for p in plots
    )


def _plots(sec: model.Section, params: Sequence[str], first: Sequence[str]) -> list[str]:
    from mlops_nb.report.plots import constant, metric_plot, parallel_plot

    ok = sec.df[sec.df["status"] == "ok"]
    if len(ok) < 2 or not params:
        return []
    plots, same = [], []
    for metric in _metrics(sec, first):
        value = constant(ok[metric])
        if value is not None and ok[metric].notna().all():
            same.append(f"{_e(_label(metric))} = {_e(value)}")
            continue
        plots.append(metric_plot(ok, metric, params, sec.title))
    target = sec.sort or next(iter(_metrics(sec, first)), None)
    if len(params) >= 3 and target:
        plots.insert(0, parallel_plot(ok, params, target, sec.title))
    out = ["<h3>Metrics against parameters</h3>", _figures(plots)]
    if same:
        out.append(
            f'<p class="constants muted">The same in all {len(ok)} runs: {", ".join(same)}.</p>'
        )
    return out


def _images(sec: model.Section, images: Mapping[str, Sequence[model.Image]]) -> list[str]:
    shown = [(rid, images[rid]) for rid in sec.df["id"] if images.get(str(rid))]
    if not shown:
        return []
    out = ["<h3>Images</h3>"]
    for rid, imgs in shown:
        figs = "".join(
            f'<figure><img alt="{_e(i.source)}" src="{_e(i.uri)}">'
            f"<figcaption>{_e(i.source)}</figcaption></figure>"
            for i in imgs
        )
        out.append(
            f'<div class="images"><p>run <a href="#{_anchor(str(rid))}">{_e(rid)}</a></p>{figs}</div>'
        )
    return out


def _failed(sec: model.Section, recs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    bad = sec.df[sec.df["status"].isin(list(model.FAILED))]
    if bad.empty:
        return []
    items = []
    for r in bad.itertuples(index=False):
        err = recs.get(str(r.id), {}).get("error") or {}
        tb = [str(t) for t in err.get("traceback") or []][-8:] if isinstance(err, dict) else []
        items.append(
            f'<li><a href="#{_anchor(str(r.id))}">{_e(r.id)}</a> ({_e(r.status)}): '
            f"<code>{_e(r.error)}</code>"
            + (f"<pre>{_e(chr(10).join(tb))}</pre>" if tb else "")
            + "</li>"
        )
    return [f'<h3>Failed runs</h3><ul class="failed">{"".join(items)}</ul>']


def _run_details(sec: model.Section, runs_dir: Path, out_dir: Path) -> list[str]:
    from mlops_nb.results.collect import explicit_nulls

    nulls = explicit_nulls(sec.df)
    out = []
    for rec in sec.df.to_dict(orient="records"):
        rid = str(rec["id"])
        link = os.path.relpath(runs_dir / rid / "output.ipynb", out_dir)
        kv = [(c, rec[c]) for c in sec.df.columns if str(c).startswith(("params.", "scraps."))]
        rows = "".join(
            f"<tr><th>{_e(k)}</th>{_cell(v, null=rid in nulls.get(str(k), ()))}</tr>" for k, v in kv
        )
        error = (
            f"<p>error: <code>{_e(rec['error'])}</code></p>"
            if isinstance(rec["error"], str)
            else ""
        )
        out.append(
            f'<details class="run" id="{_anchor(rid)}"><summary>{_e(rid)} · {_e(rec["status"])}'
            + (f" · {_e(rec['name'])}" if isinstance(rec["name"], str) else "")
            + "</summary>"
            f"<p>{_e(rec['notebook'])} · {_e(rec['duration'])} s · started {_e(rec['started'])}"
            + (f" · sweep {_e(rec['sweep'])}" if isinstance(rec["sweep"], str) else "")
            + f' · <a href="{_e(link)}">output notebook</a></p>{error}'
            f"<table>{rows}</table></details>"
        )
    return out


def _section(
    sec: model.Section,
    ctx: _Context,
) -> list[str]:
    from mlops_nb.report.plots import varying

    params = varying(sec.df)
    n_bad = int(sec.df["status"].isin(list(model.FAILED)).sum())
    counts = f"{len(sec.df)} run{'s' if len(sec.df) != 1 else ''}" + (
        f", {n_bad} failed" if n_bad else ""
    )
    sort = f", best first by {_e(_label(sec.sort))}" if sec.sort else ""
    return [
        f'<section class="section" id="sec-{_e(sec.key)}">',
        f'<h2>{_e(sec.title)}</h2><p class="muted">{_e(sec.notebook)} · {counts}{sort}</p>',
        _fixed(sec, params),
        *_leaderboard(sec, params, ctx.ascending),
        *_plots(sec, params, ctx.metrics),
        *_images(sec, ctx.images),
        *_failed(sec, ctx.recs),
        "<h3>Runs</h3>",
        *_run_details(sec, ctx.runs_dir, ctx.out_dir),
        "</section>",
    ]


@dataclass(frozen=True)
class _Context:
    runs_dir: Path
    out_dir: Path
    recs: Mapping[str, Mapping[str, Any]]
    images: Mapping[str, Sequence[model.Image]]
    metrics: Sequence[str]
    ascending: bool


# ---- page -------------------------------------------------------------------------------------


def report_html(
    df: pd.DataFrame,
    *,
    runs_dir: Path,
    out_dir: Path,
    title: str = "mlops-nb report",
    filters: str = "",
    sort: str | None = None,
    ascending: bool = False,
    metrics: Sequence[str] = (),
    current: Mapping[str, Any] | None = None,
) -> str:
    """The whole page for the runs in ``df`` (a ``collect`` frame).

    ``sort`` orders each section's leaderboard where it has that column (best first: descending
    unless ``ascending``); ``metrics`` are plotted first; ``current`` is the pipeline invocation
    now running (its steps so far), as the pipeline engine hands it to its report step.
    """
    body = _body(
        df,
        runs_dir=runs_dir,
        out_dir=out_dir,
        title=title,
        filters=filters,
        sort=sort,
        ascending=ascending,
        metrics=metrics,
        current=current,
    )
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No network, no script: nothing but inline styles and data: images may load.
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
    ]
    return "\n".join([*head, *body, "</main></body></html>"]) + "\n"


def _body(
    df: pd.DataFrame,
    *,
    runs_dir: Path,
    out_dir: Path,
    title: str,
    filters: str,
    sort: str | None,
    ascending: bool,
    metrics: Sequence[str],
    current: Mapping[str, Any] | None,
) -> list[str]:
    from mlops_nb.report.plots import duration_plot, varying

    ids = [str(i) for i in df["id"]]
    recs = model.records(runs_dir, ids)
    pipes = {
        (r.get("pipeline") or {}).get("name"): (r.get("pipeline") or {}).get("file")
        for r in recs.values()
        if isinstance(r.get("pipeline"), dict)
    }
    if current and current.get("pipeline"):
        pipes.setdefault(current["pipeline"], current.get("file"))
    selects: dict[str, str] = {}
    for file in pipes.values():
        selects.update(model.pipeline_file(file, runs_dir).selects)
    secs = model.sections(df, recs, sort=sort, ascending=ascending, selects=selects)
    images: dict[str, list[model.Image]] = {}
    for sec in secs:
        ok = sec.df[sec.df["status"] == "ok"]["id"].tolist()[: model.IMAGE_RUNS_PER_SECTION]
        for rid in ok:
            images[str(rid)] = model.run_images(runs_dir / str(rid), recs.get(str(rid), {}))
    invs = model.invocations(runs_dir, sorted(str(p) for p in pipes if p), recs, current)
    links: dict[str, dict[str, str]] = {}
    grids: dict[str, dict[str, list[str]]] = {}
    chosen_by: dict[str, dict[str, str]] = {}
    for sec in secs:
        if sec.step:
            links.setdefault(sec.step[0], {})[sec.step[1]] = f"sec-{sec.key}"
            grids.setdefault(sec.step[0], {})[sec.step[1]] = varying(sec.df)
            if sec.select:
                chosen_by.setdefault(sec.step[0], {})[sec.step[1]] = f"best by {sec.select}"
    ctx = _Context(runs_dir, out_dir, recs, images, metrics, ascending)
    counts = df["status"].value_counts().to_dict()
    summary = ", ".join(f"{_e(n)} {_e(k)}" for k, n in sorted(counts.items()))
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(
        f'<a href="#headline-{_e(i.pipeline)}-{_e(i.id)}">pipeline {_e(i.pipeline)}</a>'
        for i in invs[:1]
    ) + "".join(f'<a href="#sec-{_e(s.key)}">{_e(s.title)}</a>' for s in secs)
    durations = duration_plot(df) if len(df) else None
    out = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">{len(df)} runs ({summary or "none"}) in {_e(_where(runs_dir, out_dir))}'
        + (f"; filters: <code>{_e(filters)}</code>" if filters else "")
        + f"; generated {now}</p>",
        f"<nav>{nav}</nav>" if nav else "",
    ]
    deployed = _registry(runs_dir) if invs else ""  # today's state: under the newest invocation
    for i, inv in enumerate(invs):
        p = inv.pipeline
        out += _headline(
            inv,
            links.get(p, {}),
            grids.get(p, {}),
            chosen_by.get(p, {}),
            deployed if i == 0 else "",
        )
    for sec in secs:
        out += _section(sec, ctx)
    if not secs:
        out.append('<p class="muted">No runs match.</p>')
    if durations:
        out += [
            '<section class="section" id="durations"><h2>Run durations</h2>',
            _figures([durations]),
            "</section>",
        ]
    return out


def _where(runs_dir: Path, out_dir: Path) -> str:
    """The runs folder as seen from the page's folder (a page to share names no home folder)."""
    try:
        rel = os.path.relpath(runs_dir.resolve(), out_dir.resolve())
    except ValueError:
        return str(runs_dir)
    return "the report's folder" if rel == "." else rel


@dataclass(frozen=True)
class CompareView:
    """The report as a notebook output (``_repr_html_``) with its key results."""

    html: str
    n_runs: int
    best_run: str | None

    def _repr_html_(self) -> str:
        return self.html


def compare_view(
    runs_dir: str | os.PathLike[str] | None = None,
    *,
    notebook: str | None = None,
    sweep: str | None = None,
    pipeline: str | None = None,
    status: str | None = None,
    where: str | None = None,
    sort: str | None = None,
    ascending: bool = False,
) -> CompareView:
    """The report's content for display in a notebook (the ``compare`` template)."""
    from mlops_nb.results.collect import collect
    from mlops_nb.store.runs import resolve_runs_dir

    rd = resolve_runs_dir(runs_dir)
    df = collect(rd, notebook=notebook, sweep=sweep, pipeline=pipeline, status=status, where=where)
    body = _body(
        df,
        runs_dir=rd,
        out_dir=Path.cwd(),
        title="Compare runs",
        filters="",
        sort=sort,
        ascending=ascending,
        metrics=(),
        current=None,
    )
    best = None
    recs = model.records(rd, [str(i) for i in df["id"]])
    secs = model.sections(df, recs, sort=sort, ascending=ascending, selects={})
    if len(secs) == 1 and secs[0].sort:
        ok = secs[0].df[secs[0].df["status"] == "ok"]
        best = str(ok["id"].iloc[0]) if len(ok) else None
    return CompareView(f"<style>{_CSS}</style>" + "\n".join(body), len(df), best)


def build_report(
    runs_dir: str | os.PathLike[str] | None = None,
    *,
    output: str | os.PathLike[str] = "report.html",
    filter: RunFilter | None = None,
    notebook: str | None = None,
    sweep: str | None = None,
    pipeline: str | None = None,
    status: str | None = None,
    where: str | None = None,
    sort: str | None = None,
    ascending: bool = False,
    title: str = "mlops-nb report",
    metrics: Sequence[str] | str = (),
    current: Mapping[str, Any] | None = None,
) -> Path:
    """Write the report for the runs matching ``filter`` (a ``RunFilter``) or its keywords
    ``notebook``, ``sweep``, ``pipeline``, ``status``, ``where`` (``collect``'s); returns its path.

    Each section's leaderboard is sorted by ``sort`` where it has that column, else by a pipeline
    step's ``select`` metric, else by its first float scrap; best first (descending unless
    ``ascending``). ``metrics`` (names or one comma-separated string) are plotted first.
    Raises ``UsageError`` for an unknown filter value or an unwritable output.
    """
    from mlops_nb.notebook.io import atomic_write_text, writing
    from mlops_nb.results.collect import collect
    from mlops_nb.results.filter import RunFilter
    from mlops_nb.store.runs import resolve_runs_dir

    chosen = RunFilter.of(
        filter, notebook=notebook, sweep=sweep, pipeline=pipeline, status=status, where=where
    )
    rd = resolve_runs_dir(runs_dir)
    df = collect(rd, filter=chosen)
    if sort:  # a name no run has is a typo: say so (per-section sorting skips it silently)
        from mlops_nb.results.collect import resolve_column

        if len(df):
            resolve_column(df, sort)
    filters = chosen.flags()
    wanted = [m.strip() for m in metrics.split(",")] if isinstance(metrics, str) else list(metrics)
    path = Path(output)
    page = report_html(
        df,
        runs_dir=rd,
        out_dir=path.resolve().parent,
        title=title,
        filters=filters,
        sort=sort,
        ascending=ascending,
        metrics=[str(m) for m in wanted if m],
        current=current,
    )
    with writing(path):
        atomic_write_text(path, page)
    return path
