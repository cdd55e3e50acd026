"""Build the report page: one HTML file, images embedded, no scripts, no network.

Every string that comes from notebooks, parameters, scraps or errors goes through ``_e``
(``html.escape``); the page itself has no JavaScript.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb.report.plots import Plot, duration_plot, metric_plots

if TYPE_CHECKING:
    import pandas as pd

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4} tr.failed td,tr.timeout td,tr.interrupted td{background:#fff0f0}
td.num{text-align:right;font-variant-numeric:tabular-nums} code{font-size:12px}
.plot{display:inline-block;margin:0 1em 1em 0} .plot img{max-width:100%}
section.run{border-top:1px solid #ddd;padding:.5em 0} .muted{color:#777}
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


def _anchor(run_id: str) -> str:
    return "run-" + html.escape(run_id, quote=True)


def _cell(value: Any) -> str:
    cls = ' class="num"' if isinstance(value, int | float) and not isinstance(value, bool) else ""
    return f"<td{cls}>{_e(value)}</td>"


def _leaderboard(df: pd.DataFrame, sort: str | None) -> list[str]:
    cols = ["status", "notebook", "duration"] + [
        c for c in df.columns if c.startswith(("params.", "scraps."))
    ]
    out = [
        f'<h2 id="leaderboard-title">Leaderboard</h2><p class="muted">{len(df)} runs'
        + (f", sorted by {_e(sort)}" if sort else "")
        + "</p>",
        '<table id="leaderboard"><thead><tr><th>#</th><th>run</th>'
        + "".join(f"<th>{_e(c)}</th>" for c in cols)
        + "</tr></thead><tbody>",
    ]
    for rank, row in enumerate(df.itertuples(index=False), start=1):
        rec = dict(zip(df.columns, row, strict=True))
        label = rec["name"] if isinstance(rec["name"], str) else rec["id"]
        out.append(
            f'<tr class="{_e(rec["status"])}"><td class="num">{rank}</td>'
            f'<td><a href="#{_anchor(rec["id"])}">{_e(label)}</a></td>'
            + "".join(_cell(rec[c]) for c in cols)
            + "</tr>"
        )
    out.append("</tbody></table>")
    return out


def _plots(plots: Sequence[Plot]) -> list[str]:
    if not plots:
        return ['<p class="muted">No plots: no numeric scraps against varying parameters.</p>']
    return [
        f'<figure class="plot"><img alt="{_e(p.title)}" src="{p.uri}">'
        f"<figcaption>{_e(p.group)}: {_e(p.title)}</figcaption></figure>"
        for p in plots
    ]


def _failed(df: pd.DataFrame) -> list[str]:
    bad = df[df["status"].isin(["failed", "timeout", "interrupted"])]
    if bad.empty:
        return ['<h2>Failed runs</h2><p class="muted">None.</p>']
    items = "".join(
        f'<li><a href="#{_anchor(r.id)}">{_e(r.id)}</a> ({_e(r.notebook)}, {_e(r.status)}): '
        f"<code>{_e(r.error)}</code></li>"
        for r in bad.itertuples(index=False)
    )
    return [f'<h2>Failed runs</h2><ul id="failed">{items}</ul>']


def _runs(df: pd.DataFrame, runs_dir: Path, out_dir: Path) -> list[str]:
    out = ["<h2>Runs</h2>"]
    for rec in df.to_dict(orient="records"):
        link = os.path.relpath(runs_dir / str(rec["id"]) / "output.ipynb", out_dir)
        kv = [(c, rec[c]) for c in df.columns if c.startswith(("params.", "scraps."))]
        rows = "".join(f"<tr><th>{_e(k)}</th>{_cell(v)}</tr>" for k, v in kv if v is not None)
        error = (
            f"<p>error: <code>{_e(rec['error'])}</code></p>"
            if isinstance(rec["error"], str)
            else ""
        )
        out.append(
            f'<section class="run" id="{_anchor(str(rec["id"]))}"><h3>{_e(rec["id"])}</h3>'
            f"<p>{_e(rec['notebook'])} · {_e(rec['status'])} · {_e(rec['duration'])} s · "
            f"started {_e(rec['started'])}"
            + (f" · name {_e(rec['name'])}" if isinstance(rec["name"], str) else "")
            + (f" · sweep {_e(rec['sweep'])}" if isinstance(rec["sweep"], str) else "")
            + f' · <a href="{_e(link)}">output notebook</a></p>{error}'
            f"<table>{rows}</table></section>"
        )
    return out


def report_html(
    df: pd.DataFrame,
    *,
    runs_dir: Path,
    out_dir: Path,
    title: str = "mlops-nb report",
    filters: str = "",
    sort: str | None = None,
) -> str:
    """The whole page for the runs in ``df`` (a ``collect`` frame)."""
    return (
        "\n".join(
            _page(df, runs_dir=runs_dir, out_dir=out_dir, title=title, filters=filters, sort=sort)
        )
        + "\n"
    )


def _page(
    df: pd.DataFrame,
    *,
    runs_dir: Path,
    out_dir: Path,
    title: str,
    filters: str,
    sort: str | None,
    fragment: bool = False,
) -> list[str]:
    counts = df["status"].value_counts().to_dict()
    plots = metric_plots(df)
    durations = duration_plot(df) if len(df) else None
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = ", ".join(f"{_e(n)} {_e(k)}" for k, n in sorted(counts.items()))
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # No network: nothing but inline styles and data: images may load.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
    ]
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">{len(df)} runs ({summary or "none"}) in {_e(runs_dir)}'
        + (f"; filters: <code>{_e(filters)}</code>" if filters else "")
        + f"; generated {now}</p>",
        *_leaderboard(df, sort),
        "<h2>Metrics against parameters</h2>",
        *_plots(plots),
        "<h2>Run durations</h2>",
        *_plots([durations] if durations else []),
        *_failed(df),
        *_runs(df, runs_dir, out_dir),
    ]
    return body if fragment else [*head, *body, "</body></html>"]


@dataclass(frozen=True)
class CompareView:
    """The report as a notebook output (``_repr_html_``) with its key results."""

    html: str
    n_runs: int
    best_run: str | None

    def _repr_html_(self) -> str:
        return self.html


def _sorted(df: pd.DataFrame, sort: str | None, ascending: bool) -> tuple[pd.DataFrame, str | None]:
    from mlops_nb.results.collect import resolve_column

    column = resolve_column(df, sort) if sort else _default_sort(df)
    if column:
        df = df.sort_values(column, ascending=ascending, na_position="last", kind="stable")
    return df, column


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
    df, column = _sorted(df, sort, ascending)
    body = _page(
        df,
        runs_dir=rd,
        out_dir=Path.cwd(),
        title="Compare runs",
        filters="",
        sort=column,
        fragment=True,
    )
    ok = df[df["status"] == "ok"]
    best = str(ok["id"].iloc[0]) if column and len(ok) else None
    return CompareView(f"<style>{_CSS}</style>" + "\n".join(body), len(df), best)


def _default_sort(df: pd.DataFrame) -> str | None:
    import pandas as pd

    for c in df.columns:
        if c.startswith("scraps.") and pd.api.types.is_float_dtype(df[c].dtype):
            return str(c)
    return None


def build_report(
    runs_dir: str | os.PathLike[str] | None = None,
    *,
    output: str | os.PathLike[str] = "report.html",
    notebook: str | None = None,
    sweep: str | None = None,
    pipeline: str | None = None,
    status: str | None = None,
    where: str | None = None,
    sort: str | None = None,
    ascending: bool = False,
    title: str = "mlops-nb report",
) -> Path:
    """Write the report for the runs matching the filters; returns its path.

    The leaderboard is sorted by ``sort`` (default: the first float scrap), best first
    (descending unless ``ascending``).
    """
    from mlops_nb.notebook.io import atomic_write_text, writing
    from mlops_nb.results.collect import collect
    from mlops_nb.store.runs import resolve_runs_dir

    rd = resolve_runs_dir(runs_dir)
    df = collect(rd, notebook=notebook, sweep=sweep, pipeline=pipeline, status=status, where=where)
    df, column = _sorted(df, sort, ascending)
    filters = " ".join(
        f"--{k} {v}"
        for k, v in (
            ("notebook", notebook),
            ("sweep", sweep),
            ("pipeline", pipeline),
            ("status", status),
            ("where", where),
        )
        if v
    )
    path = Path(output)
    page = report_html(
        df, runs_dir=rd, out_dir=path.resolve().parent, title=title, filters=filters, sort=column
    )
    with writing(path):
        atomic_write_text(path, page)
    return path
