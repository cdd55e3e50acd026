"""A section's tables: the leaderboard (its own columns, the sort metric first), the parameters
that are the same in every run, the failed runs with their errors, and each run's details."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb.report.listing import listing
from mlops_nb.report.markup import anchor, cell, e, label, n_more
from mlops_nb.report.views import FAILED, MAX_FAILED, MAX_ROWS, NARROW, Section

if TYPE_CHECKING:
    from mlops_nb.results.filter import RunFilter


def _columns(sec: Section, params: Sequence[str]) -> list[str]:
    scraps = [c for c in sec.df.columns if c.startswith("scraps.") and c != sec.sort]
    nums = [c for c in scraps if sec.df.numeric(c)]
    return [
        *([sec.sort] if sec.sort else []),
        "status",
        *params,
        *nums,
        *[c for c in scraps if c not in nums],
        "duration",
    ]


def leaderboard(
    sec: Section,
    params: Sequence[str],
    ascending: bool,
    runs_dir: Path | None = None,
    chosen: RunFilter | None = None,
) -> list[str]:
    """The section's runs best first (its best ``MAX_ROWS`` and the pinned ones), one row each,
    linked to their details; a line says how many more there are and the command that lists
    them (the page's filters ``chosen``, narrowed to the section: ``listing``)."""
    cols = _columns(sec, params)
    arrow = " ▲" if ascending else " ▼"
    head = "".join(
        f'<th class="sort">{e(label(c))}{arrow}</th>'
        if c == sec.sort
        else f"<th>{e(label(c))}</th>"
        for c in cols
    )
    out = [
        f'<div class="scroll"><table class="leaderboard" id="lb-{e(sec.key)}">'
        f"<thead><tr><th>#</th><th>run</th>{head}</tr></thead><tbody>"
    ]
    rows = sec.rows
    for rank, rec in zip(sec.ranks, rows.records(), strict=True):
        rid = str(rec["id"])
        name = rec["name"] if isinstance(rec["name"], str) else rid
        out.append(
            f'<tr class="{e(rec["status"])}"><td class="num">{rank + 1}</td>'
            f'<td><a href="#{anchor(rid)}">{e(name)}</a></td>'
            + "".join(
                cell(rec[c], null=rows.null(c, rid), cls="sort" if c == sec.sort else "")
                for c in cols
            )
            + "</tr>"
        )
    out.append("</tbody></table></div>")
    if sec.hidden:
        out.append(
            f'<p class="more muted">{n_more(sec.hidden, "runs")} not shown (the best {MAX_ROWS} are'
            f"{', and the runs a registry alias points to' if len(rows) > MAX_ROWS else ''}); "
            f"{NARROW}, or list them all with <code>{e(listing(sec, chosen, runs_dir))}</code>.</p>"
        )
    return out


def fixed(sec: Section, params: Sequence[str]) -> str:
    """One line: the parameters whose value is the same in every run of the section."""
    same = []
    for c in sec.df.columns:
        if not c.startswith("params.") or c in params:
            continue
        text = "None" if sec.df.nulls.get(c) else e(sec.df[c][0])
        same.append(f"{e(label(c))}={text}")
    return f'<p class="muted">parameters: {", ".join(same)}</p>' if same and len(sec.df) > 1 else ""


def failed_ids(sec: Section) -> list[str]:
    """The failed runs the section lists (the first ``MAX_FAILED``, in leaderboard order)."""
    bad = sec.df.having("status", FAILED)["id"]
    return [str(i) for i in bad[:MAX_FAILED]]


def failed(
    sec: Section,
    recs: Mapping[str, Mapping[str, Any]],
    runs_dir: Path | None = None,
    chosen: RunFilter | None = None,
) -> list[str]:
    """The failed runs, each with its error line and the end of its traceback (``recs``: their
    records); at most ``MAX_FAILED``, and a line says how many more there are and the command
    that lists them (as ``leaderboard``'s)."""
    bad = sec.df.having("status", FAILED)
    if not len(bad):
        return []
    shown = set(sec.rows["id"])
    items = []
    for r in bad.take(range(min(len(bad), MAX_FAILED))).records():
        rid = str(r["id"])
        err = recs.get(rid, {}).get("error") or {}
        tb = [str(t) for t in err.get("traceback") or []][-8:] if isinstance(err, dict) else []
        link = f'<a href="#{anchor(rid)}">{e(rid)}</a>' if rid in shown else e(rid)
        items.append(
            f"<li>{link} ({e(r['status'])}): <code>{e(r['error'])}</code>"
            + (f"<pre>{e(chr(10).join(tb))}</pre>" if tb else "")
            + "</li>"
        )
    more = (
        f'<p class="more muted">{n_more(len(bad) - MAX_FAILED, "failed runs")} not listed; '
        f"see them with <code>{e(listing(sec, chosen, runs_dir, failed=True))}</code>.</p>"
        if len(bad) > MAX_FAILED
        else ""
    )
    return [f'<h3>Failed runs</h3><ul class="failed">{"".join(items)}</ul>{more}']


def run_details(sec: Section, runs_dir: Path, out_dir: Path) -> list[str]:
    """Each shown run's details, folded: parameters, scraps, a link to its output notebook."""
    out = []
    names = [c for c in sec.df.columns if c.startswith(("params.", "scraps."))]
    for rec in sec.rows.records():
        rid = str(rec["id"])
        link = os.path.relpath(runs_dir / rid / "output.ipynb", out_dir)
        rows = "".join(
            f"<tr><th>{e(k)}</th>{cell(rec[k], null=sec.df.null(k, rid))}</tr>" for k in names
        )
        error = (
            f"<p>error: <code>{e(rec['error'])}</code></p>" if isinstance(rec["error"], str) else ""
        )
        out.append(
            f'<details class="run" id="{anchor(rid)}"><summary>{e(rid)} · {e(rec["status"])}'
            + (f" · {e(rec['name'])}" if isinstance(rec["name"], str) else "")
            + "</summary>"
            f"<p>{e(rec['notebook'])} · {e(rec['duration'])} s · started {e(rec['started'])}"
            + (f" · sweep {e(rec['sweep'])}" if isinstance(rec["sweep"], str) else "")
            + f' · <a href="{e(link)}">output notebook</a></p>{error}'
            f"<table>{rows}</table></details>"
        )
    return out
