"""HTML pieces every part of the page uses: escaping, table cells, figures, the style sheet.

Every string that comes from notebooks, parameters, scraps or errors goes through ``e``
(``html.escape``); the page has no JavaScript and a Content-Security-Policy (``CSP``) that allows
nothing but inline styles and ``data:`` images.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any

from mlops_nb.report.plots import Plot

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
CSS = """
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


def e(value: Any) -> str:
    """Escaped text of any value (pd.NA, pd.NaT and None are empty; a time to the second)."""
    if _missing(value):
        return ""
    if isinstance(value, float):
        return html.escape(f"{value:.6g}")
    if isinstance(value, dt.datetime):  # pd.Timestamp is one
        return html.escape(value.strftime("%Y-%m-%d %H:%M:%S"))
    return html.escape(str(value), quote=True)


def _missing(value: Any) -> bool:
    """None, or pandas' missing value (``pd.NA``, ``pd.NaT``), without importing pandas."""
    if value is None:
        return True
    if type(value).__module__.partition(".")[0] != "pandas":
        return False
    import pandas as pd  # already imported: the value is its

    return value is pd.NA or value is pd.NaT


def short(value: Any) -> str:
    """A number for the headline (4 significant digits), anything else escaped."""
    if isinstance(value, float):
        return html.escape(f"{value:.4g}")
    return e(value)


def anchor(run_id: str) -> str:
    """The id of a run's details on the page (``#run-<id>``)."""
    return "run-" + html.escape(run_id, quote=True)


def is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def cell(value: Any, *, null: bool = False, cls: str = "") -> str:
    """A ``<td>``: numbers right-aligned, an explicit None (``null``) shown as ``None``."""
    classes = " ".join(c for c in ("num" if is_num(value) else "", cls) if c)
    attr = f' class="{classes}"' if classes else ""
    if null and _missing(value):
        return f"<td{attr}>None</td>"
    return f"<td{attr}>{e(value)}</td>"


def n_more(n: int, things: str) -> str:
    """``"1 more run"``, ``"1,234 more runs"``: ``things`` is the plural, ending in ``s``."""
    return f"{n:,} more {things if n != 1 else things.removesuffix('s')}"


def label(name: str) -> str:
    """A column's name without its ``params.``/``scraps.`` prefix."""
    return name.split(".", 1)[1] if name.startswith(("params.", "scraps.")) else name


def figures(plots: Sequence[Plot]) -> str:
    return "".join(
        f'<figure class="plot"><img alt="{e(p.title)}" src="{p.uri}">'
        f"<figcaption>{e(p.title)}</figcaption></figure>"
        for p in plots
    )
