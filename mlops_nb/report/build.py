"""Build the report page: one HTML file, images embedded, no scripts, no network.

Layout: a headline per pipeline invocation (``headline``: the DAG with each step's status and key
numbers, the best model, metrics against their baselines, the drift alarm), then one section per
pipeline step, sweep or notebook (``sections``: its own leaderboard, its metrics against its
varying parameters, the images its best runs saved, its failed runs with their errors, each run's
details), then run durations. What is shown is read by ``model``; ``markup`` escapes every string
that comes from notebooks, parameters, scraps or errors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from mlops_nb.report import model, outline
from mlops_nb.report.assemble import Options, body, strings
from mlops_nb.report.cache import Cache
from mlops_nb.report.markup import CSP, e
from mlops_nb.report.markup import CSS as _CSS
from mlops_nb.store.names import check_named, check_selection

if TYPE_CHECKING:
    import pandas as pd

    from mlops_nb.report.outline import Page, Selection
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
    cache: bool = True,
) -> str:
    """The whole page for the runs in ``df`` (a ``collect`` frame: its ``id`` column chooses
    the runs; what the page shows of them is read from the runs index).

    ``sort`` orders each section's leaderboard where it has that column (best first: descending
    unless ``ascending``); ``metrics`` are plotted first; ``current`` is the pipeline invocation
    now running (its steps so far), as the pipeline engine hands it to its report step;
    ``cache``: reuse and keep sections drawn before (``mlops_nb.report.cache``).
    """
    from mlops_nb.report.outline import Selection

    sel = Selection(Path(runs_dir), ids=tuple(str(i) for i in df["id"]))
    opts = Options(out_dir, title, filters, sort, ascending, metrics, current)
    return _page(sel, opts, Cache(Path(runs_dir), enabled=cache))


def _page(sel: Selection, opts: Options, cache: Cache, page: Page | None = None) -> str:
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No network, no script: nothing but inline styles and data: images may load.
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{e(opts.title)}</title><style>{_CSS}</style></head><body><main>",
    ]
    lines = body(sel, opts, cache, page)
    return "\n".join([*head, *lines, "</main></body></html>"]) + "\n"


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
    cache: bool = True,
    **keywords: Unpack[FilterKeywords],
) -> CompareView:
    """The report's content for display in a notebook (the ``compare`` template): the runs
    matching ``filter`` (a ``RunFilter``) or its keywords, as ``build_report`` chooses them
    (``cache``: as ``build_report``'s). Raises ``UsageError`` for an unknown filter value or a
    sweep, pipeline or notebook the store does not have."""
    from mlops_nb.report.outline import Selection
    from mlops_nb.results.filter import RunFilter
    from mlops_nb.store.runs import resolve_runs_dir

    rd = resolve_runs_dir(runs_dir)
    chosen = RunFilter.of(filter, **keywords)
    df = _matching(rd, chosen)
    opts = Options(Path.cwd(), "Compare runs", "", sort, ascending, chosen=chosen)
    sel, store = Selection(rd, ids=tuple(str(i) for i in df["id"])), Cache(rd, enabled=cache)
    page = outline.read(sel)
    _check_columns(sel, page, store, [sort])
    lines = body(sel, opts, store, page)
    best = None
    if len(page.outlines) == 1:  # one section: its best run
        ((rows, pipes),) = outline.frames(sel, page.outlines).values()
        (sec,) = model.sections(rows, pipes, sort=sort, ascending=ascending, selects={})
        ok = sec.df.having("status", {"ok"})["id"]
        best = ok[0] if sec.sort and ok else None
    return CompareView(f"<style>{_CSS}</style>" + "\n".join(lines), len(df), best)


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
    cache: bool = True,
) -> Path:
    """Write the report for the runs matching ``filter`` (a ``RunFilter``) or its keywords
    ``notebook``, ``sweep``, ``pipeline``, ``status``, ``where`` (``collect``'s; a pipeline
    step: ``filter=RunFilter(pipeline=..., step=...)``); returns its path.

    Each section's leaderboard is sorted by ``sort`` where it has that column, else by a pipeline
    step's ``select`` metric, else by its first float scrap; best first (descending unless
    ``ascending``). ``metrics`` (names or one comma-separated string) are plotted first.
    ``cache``: reuse the sections a report drew before when their runs have not changed, and
    keep the ones drawn now (``mlops_nb.report.cache``: the user's cache, not the store).
    Raises ``UsageError`` for an unknown filter value, a ``sort`` or ``metrics`` column no run
    has, or an unwritable output; ``StoreError`` when ``runs_dir`` is not a folder.
    """
    from mlops_nb.notebook.io import write_user_file, writing
    from mlops_nb.results.filter import RunFilter
    from mlops_nb.results.steps import check_step
    from mlops_nb.store.runs import resolve_runs_dir

    chosen = RunFilter.of(
        filter,
        notebook=notebook,
        sweep=sweep,
        pipeline=pipeline,
        status=status,
        where=where,
    )
    rd = resolve_runs_dir(runs_dir)
    sel = _selection(rd, chosen)
    page = outline.read(sel)
    check_selection(rd, chosen, page.total)
    check_step(rd, chosen.step, chosen.pipeline, page.total)
    names = _metric_names(metrics)
    store = Cache(rd, enabled=cache)
    _check_columns(sel, page, store, [sort, *names])
    path = Path(output)
    opts = Options(
        path.resolve().parent, title, chosen.flags(), sort, ascending, names, current, chosen
    )
    html = _page(sel, opts, store, page)
    with writing(path):
        write_user_file(path, html)
    return path


def _selection(rd: Path, chosen: RunFilter) -> Selection:
    """The runs ``chosen`` matches, with the index brought up to date: by SQL, or (a ``where``
    filter, evaluated on the runs' values) the ids ``collect`` keeps."""
    if chosen.where:
        df = _matching(rd, chosen)
        return outline.Selection(rd, ids=tuple(str(i) for i in df["id"]))
    from mlops_nb.store import query

    query.sync(rd)
    sql, args = chosen.sql()
    return outline.Selection(rd, sql, tuple(args))


def _matching(rd: Path, chosen: RunFilter) -> pd.DataFrame:
    """The runs ``chosen`` matches (``collect``); when none does, a sweep, pipeline or notebook
    the store does not have is a ``UsageError`` (``store.names.check_named``)."""
    from mlops_nb.results.collect import collect

    df = collect(rd, filter=chosen)
    if not len(df):
        check_named(rd, notebook=chosen.notebook, sweep=chosen.sweep, pipeline=chosen.pipeline)
    return df


def _check_columns(sel: Selection, page: Page, store: Cache, names: Sequence[str | None]) -> None:
    """A ``sort`` or ``metrics`` column no run of the store has is a typo: say so (each section
    uses the ones it has and skips the others silently). One the chosen runs lack but others have
    is no typo (``status: failed`` with ``sort: f1``: failed runs glued no f1). The columns are
    cached with the page's fingerprint."""
    wanted = [n for n in names if n]
    if not wanted or not page.total:
        return
    from mlops_nb.errors import UsageError
    from mlops_nb.results.collect import resolve_name

    name = store.key("columns", sel.digest, page.fingerprint)
    columns = strings(store.get(name))
    if columns is None:
        from mlops_nb.report.known import page_columns

        columns = page_columns(sel, page, store)
        store.put(name, columns)
    for wanted_name in wanted:
        try:
            resolve_name(columns, wanted_name)
        except UsageError:
            if sel == outline.Selection(sel.runs_dir):
                raise
            resolve_name(outline.columns(outline.Selection(sel.runs_dir)), wanted_name)


def _metric_names(metrics: Sequence[str] | str) -> list[str]:
    """Names, or comma-separated strings of them (``"f1,recall"``, ``["f1,recall", "acc"]``)."""
    items = [metrics] if isinstance(metrics, str) else list(metrics)
    return [m.strip() for item in items for m in str(item).split(",") if m.strip()]
