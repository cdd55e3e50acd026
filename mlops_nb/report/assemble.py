"""The page's body, assembled from the outline (``outline``: SQL aggregates of the runs index)
and the cache (``cache``): a section is drawn (its runs read, its figures plotted) only when
its runs or the report's options changed since a page last drew it. At 100,000 runs a page
whose sections have not changed reads no run and imports neither pandas nor matplotlib."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from mlops_nb.report import cache as caching
from mlops_nb.report import model, outline
from mlops_nb.report.headline import headline, registry_card
from mlops_nb.report.images import IMAGE_RUNS_PER_SECTION, run_images
from mlops_nb.report.markup import e, figures, n_more
from mlops_nb.report.views import MAX_FIGURES, MAX_SECTIONS

if TYPE_CHECKING:
    from mlops_nb.report.outline import Outline, Page, Selection
    from mlops_nb.report.sections import Figures
    from mlops_nb.report.views import Image, Invocation, Section
    from mlops_nb.results.filter import RunFilter


@dataclass(frozen=True)
class Options:
    """What the page is asked for (``build_report``'s keywords) and where it is written."""

    out_dir: Path
    title: str = "mlops-nb report"
    filters: str = ""
    sort: str | None = None
    ascending: bool = False
    metrics: Sequence[str] = ()
    current: Mapping[str, Any] | None = None
    chosen: RunFilter | None = None  # the page's filters, which its hints' commands keep


class _Drawer:
    """Each section's summary (``info``) and HTML, from the cache or drawn from its runs."""

    def __init__(self, sel: Selection, opts: Options, cache: caching.Cache, page: Page) -> None:
        self.sel, self.opts, self.cache = sel, opts, cache
        self.runs_dir = sel.runs_dir
        self.total = page.total
        self.selects: dict[str, str] = {}
        for file in _pipelines(page, opts.current).values():
            self.selects.update(model.pipeline_file(file, self.runs_dir).selects)
        self.pinned = outline.pinned_by_section(sel, model.alias_runs(self.runs_dir))
        self.recs: dict[str, dict[str, Any]] = {}
        self._secs: dict[str, Section] = {}
        self._plans: dict[str, Figures] = {}
        self.every: list[tuple[Any, ...]] | None = None

    def _key(self, o: Outline, *more: Any) -> str:
        opts = self.opts
        return self.cache.key(
            self.sel.digest,
            o.key,
            o.fingerprint,
            opts.sort,
            opts.ascending,
            list(opts.metrics),
            self.selects.get(o.key),
            self.pinned.get(o.key, []),
            *more,
        )

    def load(self, wanted: Sequence[Outline]) -> None:
        """Read and sort the runs of the sections of ``wanted`` not read yet (one query)."""
        todo = [o for o in wanted if o.key not in self._secs]
        if not todo:
            return
        pinned = {rid for ids in self.pinned.values() for rid in ids}
        scan = 2 * sum(o.count for o in todo) > self.total  # most runs: one scan, no conditions
        every: list[tuple[Any, ...]] = []
        for key, (df, pipes) in outline.frames(self.sel, todo, scan=scan, every=every).items():
            (sec,) = model.sections(
                df,
                pipes,
                sort=self.opts.sort,
                ascending=self.opts.ascending,
                selects=self.selects,
                pinned=pinned,
            )
            self._secs[key] = sec
        if scan:
            self.every = every  # every selected run's durations row: no second read for them

    def summaries(
        self, full: Sequence[Outline], rest: Sequence[Outline]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """What the page needs of each section before drawing any: of the sections shown in
        full, ``{key: {"count": figures planned, "varying": [parameters]}}`` (the figure budget,
        the headlines); of the others, ``{key: its row in the table of the sections not shown
        in full}``. From the cache, else from its runs (all read in one pass), then kept."""
        from mlops_nb.report.sections import others_row

        plans = {o.key: _plan(self.cache.get(self._key(o, "plan"))) for o in full}
        lines = {o.key: _line(self.cache.get(self._key(o, "line"))) for o in rest}
        self.load(
            [o for o in full if plans[o.key] is None] + [o for o in rest if lines[o.key] is None]
        )
        for o in full:
            if plans[o.key] is None:
                fig = self.planned(self._secs[o.key])
                plans[o.key] = {"count": fig.count, "varying": list(fig.params)}
                self.cache.put(self._key(o, "plan"), plans[o.key])
        for o in rest:
            if lines[o.key] is None:
                lines[o.key] = others_row(self._secs[o.key])
                self.cache.put(self._key(o, "line"), {"line": lines[o.key]})
        return cast("dict[str, dict[str, Any]]", plans), cast("dict[str, str]", lines)

    def planned(self, sec: Section) -> Figures:
        """The figures ``sec`` would draw (worked out once a page)."""
        from mlops_nb.report.sections import planned

        if sec.key not in self._plans:
            self._plans[sec.key] = planned(sec, self.opts.metrics)
        return self._plans[sec.key]

    def html(self, full: Sequence[Outline], allowed: Mapping[str, int]) -> dict[str, list[str]]:
        """``{section key: its lines}``, each allowed ``allowed[key]`` figures."""
        from mlops_nb.store.hints import command

        # its links are relative to the page; its hints name the store unless it is the default
        rel = os.path.relpath(self.runs_dir, self.opts.out_dir)
        hint = command("collect", runs_dir=self.runs_dir)
        chosen = repr(
            self.opts.chosen
        )  # the hints' filters (a `where` filter's digest is its runs')
        names = {o.key: self._key(o, "html", allowed[o.key], rel, hint, chosen) for o in full}
        cached = {o.key: strings(self.cache.get(names[o.key])) for o in full}
        self.load([o for o in full if cached[o.key] is None])
        out = {}
        for o in full:
            lines = cached[o.key]
            if lines is None:
                lines = self._draw(self._secs[o.key], allowed[o.key])
                self.cache.put(names[o.key], lines)
            out[o.key] = lines
        return out

    def _draw(self, sec: Section, allowed: int) -> list[str]:
        from mlops_nb.report.sections import Context, section
        from mlops_nb.report.tables import failed_ids

        ok = sec.rows.having("status", {"ok"})["id"]
        ids = [*failed_ids(sec), *ok[:IMAGE_RUNS_PER_SECTION]]
        recs = model.records(self.runs_dir, ids)
        self.recs.update(recs)
        images = _best_images(sec, self.runs_dir, recs)
        fig = self.planned(sec)
        ctx = Context(
            self.runs_dir,
            self.opts.out_dir,
            recs,
            images,
            self.opts.metrics,
            self.opts.ascending,
            {sec.key: (fig, allowed)},
            self.opts.chosen,
        )
        return section(sec, ctx)


def body(
    sel: Selection, opts: Options, cache: caching.Cache, page: Page | None = None
) -> list[str]:
    """The page's HTML lines between ``<main>`` and ``</main>`` (``page``: the outline, when the
    caller read it already)."""
    from mlops_nb.report.sections import others

    page = page or outline.read(sel)
    drawer = _Drawer(sel, opts, cache, page)
    full, rest = outline.in_full(page.outlines, MAX_SECTIONS)
    plans, lines = drawer.summaries(full, rest)
    allowed, left = {}, MAX_FIGURES
    for o in outline.priority(full):
        allowed[o.key] = min(int(plans[o.key]["count"]), left)
        left -= allowed[o.key]
    durations = _durations(sel, page, cache, drawer.every)  # asked of the painter first
    html = drawer.html(full, allowed)
    names = sorted(str(p) for p in _pipelines(page, opts.current) if p)
    invs = model.invocations(sel.runs_dir, names, drawer.recs, opts.current)
    out = _top(page, opts, invs, full, len(rest), sel.runs_dir)
    out += _headlines(full, plans, drawer.selects, invs, sel.runs_dir)
    for o in full:
        out += html[o.key]
    out += others([lines[o.key] for o in rest])
    if not page.outlines:
        out.append('<p class="muted">No runs match.</p>')
    return out + durations()


def strings(value: Any) -> list[str] | None:
    """A cache entry that is a list of strings (lines, names), else None (a miss)."""
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return value
    return None


def _plan(value: Any) -> dict[str, Any] | None:
    """A section's plan from the cache (``_Drawer.summaries``' shape), else None (a miss)."""
    if not isinstance(value, dict) or set(value) != {"count", "varying"}:
        return None
    count, varying = value["count"], strings(value["varying"])
    if type(count) is not int or count < 0 or varying is None:
        return None
    return value


def _line(value: Any) -> str | None:
    """A section's row from the cache (``{"line": row}``), else None (a miss)."""
    if not isinstance(value, dict) or set(value) != {"line"}:
        return None
    return value["line"] if isinstance(value["line"], str) else None


def _pipelines(page: Page, current: Mapping[str, Any] | None) -> dict[Any, Any]:
    """``{pipeline name: its file}`` of the pipelines these runs (and ``current``) belong to."""
    pipes = dict(page.pipelines)
    if current and current.get("pipeline"):
        pipes.setdefault(current["pipeline"], current.get("file"))
    return pipes


def _best_images(
    sec: Section, runs_dir: Path, recs: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[Image]]:
    """The images of the section's best ``IMAGE_RUNS_PER_SECTION`` ok runs, by run id."""
    ok = sec.rows.having("status", {"ok"})["id"][:IMAGE_RUNS_PER_SECTION]
    return {str(rid): run_images(runs_dir / str(rid), recs.get(str(rid), {})) for rid in ok}


def _headlines(
    full: Sequence[Outline],
    plans: Mapping[str, Mapping[str, Any]],
    selects: Mapping[str, str],
    invs: Sequence[Invocation],
    runs_dir: Path,
) -> list[str]:
    """Each invocation's headline, its steps linked to their sections; the registry under the
    newest (it is today's state)."""
    links: dict[str, dict[str, str]] = {}
    grids: dict[str, dict[str, list[str]]] = {}
    chosen_by: dict[str, dict[str, str]] = {}
    for o in full:
        if o.step:
            links.setdefault(o.step[0], {})[o.step[1]] = f"sec-{o.slug}"
            grids.setdefault(o.step[0], {})[o.step[1]] = list(plans[o.key]["varying"])
            if selects.get(o.key):
                chosen_by.setdefault(o.step[0], {})[o.step[1]] = f"best by {selects[o.key]}"
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
    page: Page,
    opts: Options,
    invs: Sequence[Invocation],
    full: Sequence[Outline],
    more: int,
    runs_dir: Path,
) -> list[str]:
    """The title, what the page covers (counts by status, the store, the filters), the nav
    (``more``: how many sections are not shown in full)."""
    summary = ", ".join(f"{n:,} {e(k)}" for k, n in sorted(page.statuses.items()))
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(
        f'<a href="#{e(model.headline_anchor(i.pipeline, i.id))}">pipeline {e(i.pipeline)}</a>'
        for i in invs[:1]
    ) + "".join(f'<a href="#sec-{e(o.slug)}">{e(o.title)}</a>' for o in full)
    nav += f'<a href="#more-sections">{n_more(more, "sections")}</a>' if more else ""
    filters = opts.filters
    return [
        f"<h1>{e(opts.title)}</h1>",
        f'<p class="muted">{page.total:,} runs ({summary or "none"}) in '
        f"{e(where(runs_dir, opts.out_dir))}"
        + (f"; filters: <code>{e(filters)}</code>" if filters else "")
        + f"; generated {now}</p>",
        f"<nav>{nav}</nav>" if nav else "",
    ]


def where(runs_dir: Path, out_dir: Path) -> str:
    """The runs folder as seen from the page's folder (a page to share names no home folder)."""
    try:
        rel = os.path.relpath(runs_dir.resolve(), out_dir.resolve())
    except ValueError:
        return str(runs_dir)
    return "the report's folder" if rel == "." else rel


def _durations(
    sel: Selection, page: Page, cache: caching.Cache, every: list[tuple[Any, ...]] | None
) -> Callable[[], list[str]]:
    """Run durations over all the page's runs (a figure: cached by every section's fingerprint;
    ``every``: their rows, when the sections were read with one scan); call the result for its
    lines (the painter draws it meanwhile, ``report.painter``)."""
    if not page.total:
        return list
    name = cache.key("durations", sel.digest, page.fingerprint)
    lines = strings(cache.get(name))
    if lines is not None:
        return lambda: lines
    from mlops_nb.report.painter import draw

    plot = draw("duration_figure", sel, every)

    def drawn() -> list[str]:
        figure = plot()
        out = (
            [
                '<section class="section" id="durations"><h2>Run durations</h2>',
                figures([figure]),
                "</section>",
            ]
            if figure
            else []
        )
        cache.put(name, out)
        return out

    return drawn
