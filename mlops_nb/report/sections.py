"""One section of the page: a pipeline step's, a sweep's or a notebook's runs, compared. Its
counts, the fixed parameters, the leaderboard, each numeric scrap plotted against the varying
parameters (constants summarised in a line), the images its best runs saved, its failed runs and
each run's details."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_nb.report import tables
from mlops_nb.report.markup import anchor, e, figures, label
from mlops_nb.report.plots import Plot, numeric
from mlops_nb.report.views import FAILED, Image, Section


@dataclass(frozen=True)
class Context:
    """What every section needs from the page: where the store and the page are, the run
    records read, the images of the best runs, the metrics to plot first, the sort order."""

    runs_dir: Path
    out_dir: Path
    recs: Mapping[str, Mapping[str, Any]]
    images: Mapping[str, Sequence[Image]]
    metrics: Sequence[str]
    ascending: bool


def _metrics(sec: Section, first: Sequence[str]) -> list[str]:
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
        if str(c).startswith("scraps.") and numeric(sec.df[c]) and sec.df[c].notna().any()
    ]
    ordered = [*named, *([sec.sort] if sec.sort in rest else []), *rest]
    return [c for c in dict.fromkeys(ordered) if c in rest]


def _plots(sec: Section, params: Sequence[str], first: Sequence[str]) -> list[str]:
    from mlops_nb.report.plots import constant, metric_plot, parallel_plot

    ok = sec.df[sec.df["status"] == "ok"]
    if len(ok) < 2 or not params:
        return []
    plots: list[Plot] = []
    same = []
    for metric in _metrics(sec, first):
        value = constant(ok[metric])
        if value is not None and ok[metric].notna().all():
            same.append(f"{e(label(metric))} = {e(value)}")
            continue
        plots.append(metric_plot(ok, metric, params, sec.title))
    target = sec.sort or next(iter(_metrics(sec, first)), None)
    if len(params) >= 3 and target:
        plots.insert(0, parallel_plot(ok, params, target, sec.title))
    out = ["<h3>Metrics against parameters</h3>", figures(plots)]
    if same:
        out.append(
            f'<p class="constants muted">The same in all {len(ok)} runs: {", ".join(same)}.</p>'
        )
    return out


def _images(sec: Section, images: Mapping[str, Sequence[Image]]) -> list[str]:
    shown = [(rid, images[rid]) for rid in sec.df["id"] if images.get(str(rid))]
    if not shown:
        return []
    out = ["<h3>Images</h3>"]
    for rid, imgs in shown:
        figs = "".join(
            f'<figure><img alt="{e(i.source)}" src="{e(i.uri)}">'
            f"<figcaption>{e(i.source)}</figcaption></figure>"
            for i in imgs
        )
        out.append(
            f'<div class="images"><p>run <a href="#{anchor(str(rid))}">{e(rid)}</a></p>{figs}</div>'
        )
    return out


def section(sec: Section, ctx: Context) -> list[str]:
    """The section's HTML lines."""
    from mlops_nb.report.plots import varying

    params = varying(sec.df)
    n_bad = int(sec.df["status"].isin(list(FAILED)).sum())
    counts = f"{len(sec.df)} run{'s' if len(sec.df) != 1 else ''}" + (
        f", {n_bad} failed" if n_bad else ""
    )
    sort = f", best first by {e(label(sec.sort))}" if sec.sort else ""
    return [
        f'<section class="section" id="sec-{e(sec.key)}">',
        f'<h2>{e(sec.title)}</h2><p class="muted">{e(sec.notebook)} · {counts}{sort}</p>',
        tables.fixed(sec, params),
        *tables.leaderboard(sec, params, ctx.ascending),
        *_plots(sec, params, ctx.metrics),
        *_images(sec, ctx.images),
        *tables.failed(sec, ctx.recs),
        "<h3>Runs</h3>",
        *tables.run_details(sec, ctx.runs_dir, ctx.out_dir),
        "</section>",
    ]
