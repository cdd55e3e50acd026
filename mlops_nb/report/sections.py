"""One section of the page: a pipeline step's, a sweep's or a notebook's runs, compared. Its
counts, the fixed parameters, the leaderboard, each numeric scrap plotted against the varying
parameters (constants summarised in a line), the images its best runs saved, its failed runs and
each run's details."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb.report import tables
from mlops_nb.report.markup import anchor, e, figures, label, n_more
from mlops_nb.report.plots import Plot
from mlops_nb.report.rows import TEXTS, present
from mlops_nb.report.views import FAILED, MAX_FIGURES, NARROW, Image, Section

if TYPE_CHECKING:
    from mlops_nb.results.filter import RunFilter


@dataclass(frozen=True)
class Context:
    """What every section needs from the page: where the store and the page are, the run
    records read, the images of the best runs, the metrics to plot first, the sort order, and
    each section's planned figures with how many of them it may draw (by section key), and the
    page's filters (its hints' commands keep them)."""

    runs_dir: Path
    out_dir: Path
    recs: Mapping[str, Mapping[str, Any]]
    images: Mapping[str, Sequence[Image]]
    metrics: Sequence[str]
    ascending: bool
    figures: Mapping[str, tuple[Figures, int]] = field(default_factory=dict)
    chosen: RunFilter | None = None


def _metrics(sec: Section, first: Sequence[str]) -> list[str]:
    from mlops_nb.errors import UsageError
    from mlops_nb.results.collect import resolve_name

    df = sec.df
    named = []
    for m in first:
        try:
            named.append(resolve_name(df.columns, m))
        except UsageError:
            continue
    rest = [c for c in df.columns if c.startswith("scraps.") and df.numeric(c) and present(df[c])]
    ordered = [*named, *([sec.sort] if sec.sort in rest else []), *rest]
    return [c for c in dict.fromkeys(ordered) if c in rest]


@dataclass(frozen=True)
class Figures:
    """The figures a section would draw: the parallel coordinates' metric (3+ parameters), the
    metrics drawn against the parameters, and the constant metrics (``name = value``, escaped)
    that a line of text reports instead."""

    params: tuple[str, ...]
    parallel: str | None = None
    metrics: tuple[str, ...] = ()
    same: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.metrics) + (self.parallel is not None)


def planned(sec: Section, first: Sequence[str]) -> Figures:
    """What ``sec`` would plot (nothing is drawn here): ``first``, the metrics named first."""
    from mlops_nb.report.plots import constant, varying

    params = tuple(varying(sec.df))
    ok = sec.df.having("status", {"ok"})
    if len(ok) < 2 or not params:
        return Figures(params)
    metrics, same = [], []
    for metric in _metrics(sec, first):
        value = constant(ok[metric])
        if value is not None and None not in ok[metric]:
            same.append(f"{e(label(metric))} = {e(value)}")
        else:
            metrics.append(metric)
    # the lines are coloured by the sort column unless it holds text (`--sort model`)
    sort = sec.sort if sec.sort and sec.df.kinds[sec.sort] not in TEXTS else None
    target = sort or next(iter(_metrics(sec, first)), None)
    parallel = target if len(params) >= 3 and target else None
    return Figures(params, parallel, tuple(metrics), tuple(same))


def _plots(sec: Section, fig: Figures, allowed: int) -> list[str]:
    """The figures of ``fig``, at most ``allowed`` of them (the page's budget, ``MAX_FIGURES``)."""
    from mlops_nb.report.painter import draw

    ok = sec.df.having("status", {"ok"})
    if len(ok) < 2 or not fig.params:
        return []
    todo = [*([None] if fig.parallel else []), *fig.metrics][:allowed]
    drawn = [  # each asked of the painter first (the columns it draws): it draws meanwhile
        draw(
            "parallel_plot",
            ok.only([*fig.params, str(fig.parallel)]),
            fig.params,
            str(fig.parallel),
            sec.title,
        )
        if metric is None
        else draw("metric_plot", ok.only([*fig.params, metric]), metric, fig.params, sec.title)
        for metric in todo
    ]
    plots: list[Plot] = [figure() for figure in drawn]
    out = ["<h3>Metrics against parameters</h3>", figures(plots)]
    if fig.same:
        out.append(
            f'<p class="constants muted">The same in all {len(ok)} runs: {", ".join(fig.same)}.</p>'
        )
    if fig.count > allowed:
        out.append(
            f'<p class="more muted">{n_more(fig.count - allowed, "figures")} not drawn (a page draws '
            f"at most {MAX_FIGURES}); {NARROW} to see them.</p>"
        )
    return out


def _images(sec: Section, images: Mapping[str, Sequence[Image]]) -> list[str]:
    shown = [(rid, images[rid]) for rid in sec.rows["id"] if images.get(rid)]
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
    fig, allowed = ctx.figures.get(sec.key) or (planned(sec, ctx.metrics), MAX_FIGURES)
    params = list(fig.params)
    counts = _counts(sec)
    sort = f", best first by {e(label(sec.sort))}" if sec.sort else ""
    return [
        f'<section class="section" id="sec-{e(sec.key)}">',
        f'<h2>{e(sec.title)}</h2><p class="muted">{e(sec.notebook)} · {counts}{sort}</p>',
        tables.fixed(sec, params),
        *tables.leaderboard(sec, params, ctx.ascending, ctx.runs_dir, ctx.chosen),
        *_plots(sec, fig, allowed),
        *_images(sec, ctx.images),
        *tables.failed(sec, ctx.recs, ctx.runs_dir, ctx.chosen),
        "<h3>Runs</h3>",
        *tables.run_details(sec, ctx.runs_dir, ctx.out_dir),
        "</section>",
    ]


def _counts(sec: Section) -> str:
    n_bad = sum(s in FAILED for s in sec.df["status"])
    return f"{len(sec.df):,} run{'s' if len(sec.df) != 1 else ''}" + (
        f", {n_bad:,} failed" if n_bad else ""
    )


def others_row(sec: Section) -> str:
    """A section not shown in full (``MAX_SECTIONS``) as a row of ``others``' table: its runs,
    its best run, when its last run started."""
    value = (
        f"{e(label(sec.sort))} = {e(sec.df[sec.sort][0])} (run {e(sec.df['id'][0])})"
        if sec.sort and len(sec.df)
        else ""
    )
    last = max(present(sec.df["started"]), default=None)
    return (
        f"<tr><td>{e(sec.title)}</td><td>{e(sec.notebook)}</td><td>{_counts(sec)}</td>"
        f"<td>{value}</td><td>{e(last)}</td></tr>"
    )


def others(rows: Sequence[str]) -> list[str]:
    """The sections not shown in full: one line each (``others_row``)."""
    if not rows:
        return []
    return [
        '<section class="section" id="more-sections">',
        f"<h2>{n_more(len(rows), 'sections')}</h2>",
        f'<p class="muted">Not shown in full; {NARROW} to see one.</p>',
        '<div class="scroll"><table><thead><tr><th>section</th><th>notebook</th><th>runs</th>'
        "<th>best</th><th>last started</th></tr></thead><tbody>",
        *rows,
        "</tbody></table></div></section>",
    ]
