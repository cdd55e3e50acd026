"""Build the report page: one HTML file, images embedded, no scripts, no network.

Layout: a headline per pipeline invocation (``headline``: the DAG with each step's status and key
numbers, the best model, metrics against their baselines, the drift alarm), then one section per
pipeline step, sweep or notebook (``sections``: its own leaderboard, its metrics against its
varying parameters, the images its best runs saved, its failed runs with their errors, each run's
details), then run durations. What is shown is read by ``model``; ``markup`` escapes every string
that comes from notebooks, parameters, scraps or errors.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from mlops_nb.report import model
from mlops_nb.report.headline import headline, registry_card
from mlops_nb.report.images import IMAGE_RUNS_PER_SECTION, run_images
from mlops_nb.report.markup import CSP, e, figures, n_more
from mlops_nb.report.markup import CSS as _CSS
from mlops_nb.report.sections import Context, Figures, others, planned, section
from mlops_nb.report.tables import failed_ids
from mlops_nb.report.views import MAX_FIGURES, MAX_SECTIONS
from mlops_nb.store.names import check_named

if TYPE_CHECKING:
    import pandas as pd

    from mlops_nb.report.views import Image, Invocation, Section
    from mlops_nb.results.filter import FilterKeywords, RunFilter


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
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body><main>",
    ]
    return "\n".join([*head, *body, "</main></body></html>"]) + "\n"


def _pipelines(
    recs: Mapping[str, Mapping[str, Any]], current: Mapping[str, Any] | None
) -> dict[Any, Any]:
    """``{pipeline name: its file}`` of the pipelines these runs (and ``current``) belong to."""
    pipes = {
        (r.get("pipeline") or {}).get("name"): (r.get("pipeline") or {}).get("file")
        for r in recs.values()
        if isinstance(r.get("pipeline"), dict)
    }
    if current and current.get("pipeline"):
        pipes.setdefault(current["pipeline"], current.get("file"))
    return pipes


def _best_images(
    secs: Sequence[Section], runs_dir: Path, recs: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[Image]]:
    """The images of each section's best ``IMAGE_RUNS_PER_SECTION`` ok runs, by run id."""
    images: dict[str, list[Image]] = {}
    for sec in secs:
        ok = sec.rows[sec.rows["status"] == "ok"]["id"].tolist()[:IMAGE_RUNS_PER_SECTION]
        for rid in ok:
            images[str(rid)] = run_images(runs_dir / str(rid), recs.get(str(rid), {}))
    return images


def _headlines(secs: Sequence[Section], invs: Sequence[Invocation], runs_dir: Path) -> list[str]:
    """Each invocation's headline, its steps linked to their sections; the registry under the
    newest (it is today's state)."""
    from mlops_nb.report.plots import varying

    links: dict[str, dict[str, str]] = {}
    grids: dict[str, dict[str, list[str]]] = {}
    chosen_by: dict[str, dict[str, str]] = {}
    for sec in secs:
        if sec.step:
            links.setdefault(sec.step[0], {})[sec.step[1]] = f"sec-{sec.key}"
            grids.setdefault(sec.step[0], {})[sec.step[1]] = varying(sec.df)
            if sec.select:
                chosen_by.setdefault(sec.step[0], {})[sec.step[1]] = f"best by {sec.select}"
    deployed = registry_card(runs_dir) if invs else ""
    out: list[str] = []
    for i, inv in enumerate(invs):
        p = inv.pipeline
        out += headline(
            inv,
            links.get(p, {}),
            grids.get(p, {}),
            chosen_by.get(p, {}),
            deployed if i == 0 else "",
        )
    return out


def _top(
    df: pd.DataFrame,
    title: str,
    where: str,
    filters: str,
    invs: Sequence[Invocation],
    secs: Sequence[Section],
    more: int = 0,
) -> list[str]:
    """The title, what the page covers (counts by status, the store, the filters), the nav
    (``more``: how many sections are not shown in full)."""
    counts = df["status"].value_counts().to_dict()
    summary = ", ".join(f"{n:,} {e(k)}" for k, n in sorted(counts.items()))
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(
        f'<a href="#headline-{e(i.pipeline)}-{e(i.id)}">pipeline {e(i.pipeline)}</a>'
        for i in invs[:1]
    ) + "".join(f'<a href="#sec-{e(s.key)}">{e(s.title)}</a>' for s in secs)
    nav += f'<a href="#more-sections">{n_more(more, "sections")}</a>' if more else ""
    return [
        f"<h1>{e(title)}</h1>",
        f'<p class="muted">{len(df):,} runs ({summary or "none"}) in {e(where)}'
        + (f"; filters: <code>{e(filters)}</code>" if filters else "")
        + f"; generated {now}</p>",
        f"<nav>{nav}</nav>" if nav else "",
    ]


def _durations(df: pd.DataFrame) -> list[str]:
    from mlops_nb.report.plots import duration_plot

    durations = duration_plot(df) if len(df) else None
    if not durations:
        return []
    return [
        '<section class="section" id="durations"><h2>Run durations</h2>',
        figures([durations]),
        "</section>",
    ]


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
    pipes_of = model.pipelines(runs_dir, [str(i) for i in df["id"]])
    pipes = _pipelines(pipes_of, current)
    selects: dict[str, str] = {}
    for file in pipes.values():
        selects.update(model.pipeline_file(file, runs_dir).selects)
    pinned = model.alias_runs(runs_dir)
    secs = model.sections(
        df, pipes_of, sort=sort, ascending=ascending, selects=selects, pinned=pinned
    )
    full, rest = _in_full(secs)
    # only the records the page shows: the failed runs listed and the runs whose images it embeds
    recs = model.records(runs_dir, [i for s in full for i in _record_ids(s)])
    images = _best_images(full, runs_dir, recs)
    invs = model.invocations(runs_dir, sorted(str(p) for p in pipes if p), recs, current)
    ctx = Context(runs_dir, out_dir, recs, images, metrics, ascending, _budget(full, metrics))
    out = _top(df, title, _where(runs_dir, out_dir), filters, invs, full, len(rest))
    out += _headlines(full, invs, runs_dir)
    for sec in full:
        out += section(sec, ctx)
    out += others(rest)
    if not secs:
        out.append('<p class="muted">No runs match.</p>')
    return out + _durations(df)


def _priority(secs: Sequence[Section]) -> list[Section]:
    """Pipeline steps' sections first, then the newest (by their last run's start; on a tie,
    the one whose first run came later)."""

    def key(item: tuple[int, Section]) -> tuple[bool, float, int]:
        position, sec = item
        started = sec.df["started"].max()
        when = started.timestamp() if isinstance(started, dt.datetime) else 0.0
        return sec.step is None, -when, -position

    return [sec for _, sec in sorted(enumerate(secs), key=key)]


def _in_full(secs: Sequence[Section]) -> tuple[list[Section], list[Section]]:
    """The sections shown in full (``MAX_SECTIONS`` by ``_priority``, in page order) and the
    others."""
    if len(secs) <= MAX_SECTIONS:
        return list(secs), []
    keep = {id(s) for s in _priority(secs)[:MAX_SECTIONS]}
    return [s for s in secs if id(s) in keep], [s for s in secs if id(s) not in keep]


def _budget(secs: Sequence[Section], metrics: Sequence[str]) -> dict[str, tuple[Figures, int]]:
    """Each section's planned figures and how many it may draw: ``MAX_FIGURES`` for the page,
    given out by ``_priority``."""
    left = MAX_FIGURES
    out = {}
    for sec in _priority(secs):
        fig = planned(sec, metrics)
        out[sec.key] = (fig, min(fig.count, left))
        left -= out[sec.key][1]
    return out


def _record_ids(sec: Section) -> list[str]:
    ok = sec.rows["id"][sec.rows["status"] == "ok"]
    return [*failed_ids(sec), *(str(i) for i in ok.head(IMAGE_RUNS_PER_SECTION))]


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
    filter: RunFilter | None = None,
    sort: str | None = None,
    ascending: bool = False,
    **keywords: Unpack[FilterKeywords],
) -> CompareView:
    """The report's content for display in a notebook (the ``compare`` template): the runs
    matching ``filter`` (a ``RunFilter``) or its keywords, as ``build_report`` chooses them.
    Raises ``UsageError`` for an unknown filter value or a sweep, pipeline or notebook the store
    does not have."""
    from mlops_nb.results.filter import RunFilter
    from mlops_nb.store.runs import resolve_runs_dir

    rd = resolve_runs_dir(runs_dir)
    df = _matching(rd, RunFilter.of(filter, **keywords))
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
    recs = model.pipelines(rd, [str(i) for i in df["id"]])
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
    from mlops_nb.results.filter import RunFilter
    from mlops_nb.store.runs import resolve_runs_dir

    chosen = RunFilter.of(
        filter, notebook=notebook, sweep=sweep, pipeline=pipeline, status=status, where=where
    )
    rd = resolve_runs_dir(runs_dir)
    df = _matching(rd, chosen)
    _check_sort(df, sort)
    filters = chosen.flags()
    path = Path(output)
    page = report_html(
        df,
        runs_dir=rd,
        out_dir=path.resolve().parent,
        title=title,
        filters=filters,
        sort=sort,
        ascending=ascending,
        metrics=_metric_names(metrics),
        current=current,
    )
    with writing(path):
        atomic_write_text(path, page)
    return path


def _matching(rd: Path, chosen: RunFilter) -> pd.DataFrame:
    """The runs ``chosen`` matches (``collect``); when none does, a sweep, pipeline or notebook
    the store does not have is a ``UsageError`` (``store.names.check_named``)."""
    from mlops_nb.results.collect import collect

    df = collect(rd, filter=chosen)
    if not len(df):
        check_named(rd, notebook=chosen.notebook, sweep=chosen.sweep, pipeline=chosen.pipeline)
    return df


def _check_sort(df: pd.DataFrame, sort: str | None) -> None:
    """A sort column no run has is a typo: say so (per-section sorting skips it silently)."""
    if sort and len(df):
        from mlops_nb.results.collect import resolve_column

        resolve_column(df, sort)


def _metric_names(metrics: Sequence[str] | str) -> list[str]:
    """Names, or one comma-separated string of them."""
    wanted = [m.strip() for m in metrics.split(",")] if isinstance(metrics, str) else list(metrics)
    return [str(m) for m in wanted if m]
