"""Seaborn figures for the report, rendered to PNG data URIs (matplotlib's Agg, no pyplot).

A metric is drawn against each parameter that varies in a section; a parameter with a ``None``
value (or a value some runs lack) gets a categorical axis where ``None`` and ``(missing)`` are
categories of their own, so those runs stay on the plot. A metric that is the same in every run
is not drawn (the page says so in a line).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops_nb.report import points

if TYPE_CHECKING:
    from mlops_nb.report.rows import Rows

NONE, MISSING = "None", "(missing)"
MAX_PARAMS = 6  # panels per figure
MAX_CATEGORIES = 30  # a parameter with more distinct texts is not drawn
# A figure draws at most this many runs: above it, a random sample (seeded, so the same page
# twice) whose size the figure's title states. Drawing cost grows with the points, not the value.
MAX_POINTS = 500
MAX_LINES = 200  # parallel coordinates: one line per run


@dataclass(frozen=True)
class Plot:
    """One figure: a title (plain text, escaped by the page) and a PNG data URI."""

    group: str
    title: str
    uri: str


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@contextmanager
def _quiet() -> Iterator[None]:
    import numpy as np
    from matplotlib import style

    # seaborn's strip plots jitter with numpy's global generator: seeded for each figure, so the
    # same runs give the same figure (and the cache's page is the page drawn anew), then put back
    state = np.random.get_state()
    np.random.seed(0)
    # matplotlib's default style whatever the process set (``sns.set_theme``, ``mlops_nb.ml``'s
    # plots in a notebook calling ``build_report``): the page is the same whichever process
    # draws it (the painter's, ``report.painter``). Text from notebooks is never mathtext;
    # seaborn/matplotlib style notes are not ours.
    try:
        with style.context(["default", {"text.parse_math": False}]), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        np.random.set_state(state)


def _floats(values: Sequence[Any]) -> Any:
    """Numbers as a float64 array (missing: NaN)."""
    import numpy as np

    return np.array([math.nan if v is None else _float(v) for v in values], dtype="float64")


def _float(v: Any) -> float:
    """A number as a float; an int past the float range (an exact-number column holds any
    JSON int) as infinity of its sign; a time as its seconds since the epoch (a page sorted by
    ``started`` colours its parallel coordinates by it)."""
    if isinstance(v, dt.datetime):
        return v.timestamp()
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def axis_values(df: Rows, param: str) -> tuple[list[Any], list[str] | None]:
    """Values of ``param`` for the plot: floats (numeric axis, categories None), or texts with
    their order (None first, then the values sorted, then ``(missing)``)."""
    values = df[param]
    if df.numeric(param) and None not in values:
        return [_float(v) for v in values], None
    texts = []
    for v, is_null in zip(values, df.null_mask(param), strict=True):
        if v is None:
            texts.append(NONE if is_null else MISSING)
        else:
            texts.append(_text(v))
    present = {t for t in texts if t not in (NONE, MISSING)}
    if df.numeric(param):
        middle = sorted(present, key=float)
    else:
        middle = sorted(present)
    order = [t for t in (NONE,) if t in texts] + middle + [t for t in (MISSING,) if t in texts]
    return texts, order


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v)) if abs(v) < 1e15 else f"{v:g}"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def varying(df: Rows) -> list[str]:
    """The parameters whose value differs between runs (None and absent count as values)."""
    out = []
    for c in df.columns:
        if not c.startswith("params."):
            continue
        values, order = axis_values(df, c)
        distinct = set(order) if order is not None else {v for v in values if not math.isnan(v)}
        if len(distinct) > 1 and (order is None or len(order) <= MAX_CATEGORIES):
            out.append(c)
    return out


def constant(values: Sequence[Any]) -> Any:
    """The one value of a column that never changes (missing ignored), or ``None``."""
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    return distinct[0] if len(distinct) == 1 else None


def sample(df: Rows, most: int) -> tuple[Rows, str]:
    """``df`` itself, or a seeded random sample of ``most`` of its rows (in their order) and the
    words that say so (`` (a sample of 500 of 1,000 runs)``): the rows pandas'
    ``DataFrame.sample(n=most, random_state=0).sort_index()`` keeps (``sample_rows``)."""
    keep = sample_rows(len(df), most)
    if keep is None:
        return df, ""
    return df.take(keep), sample_note(most, len(df))


def sample_note(most: int, n: int) -> str:
    return f" (a sample of {most:,} of {n:,} runs)"


def sample_rows(n: int, most: int) -> list[int] | None:
    """The positions (in order) of the rows ``sample`` keeps of a frame of ``n`` rows with a
    ``RangeIndex``, without the frame; None when it keeps them all. pandas'
    ``DataFrame.sample(n=most, random_state=0)`` draws ``numpy.random.RandomState(0).choice(n,
    most, replace=False)`` (``pandas.core.sample.sample``); a test holds the two together."""
    if n <= most:
        return None
    import numpy as np

    return sorted(np.random.RandomState(0).choice(n, size=most, replace=False).tolist())


def metric_plot(df: Rows, metric: str, params: Sequence[str], group: str) -> Plot:
    """``metric`` against each parameter in ``params``: one panel each. Over ``MAX_POINTS``
    runs, a sample of them as points (a line through a sample would join unrelated runs)."""
    from matplotlib.figure import Figure

    df, note = sample(df, MAX_POINTS)
    shown = list(params)[:MAX_PARAMS]
    y = _floats(df[metric])
    name = metric.removeprefix("scraps.")
    with _quiet():
        fig = Figure(figsize=(3.2 * len(shown), 2.8))
        axes = fig.subplots(1, len(shown), squeeze=False)[0]
        for ax, param in zip(axes, shown, strict=True):
            x, order = axis_values(df, param)
            if note:
                points.scatter(ax, x, y, order)
            else:
                _seaborn_panel(ax, x, y, order)
            if order is not None and len(order) > 4:
                ax.tick_params(axis="x", labelrotation=30)
            ax.set_xlabel(param.removeprefix("params."))
            ax.set_ylabel(name)
        fig.suptitle(name + note, fontsize=10)
        return Plot(
            group,
            f"{name} against {', '.join(p.removeprefix('params.') for p in shown)}{note}",
            _png(fig),
        )


def _seaborn_panel(ax: Any, x: list[Any], y: Any, order: list[str] | None) -> None:
    import pandas as pd
    import seaborn as sns

    data = pd.DataFrame({"x": x, "y": y})
    if order is None:
        sns.lineplot(data=data, x="x", y="y", marker="o", errorbar=None, ax=ax)
    else:
        sns.stripplot(data=data, x="x", y="y", order=order, size=7, jitter=0.15, ax=ax)


def parallel_plot(df: Rows, params: Sequence[str], metric: str, group: str) -> Plot:
    """Parallel coordinates: one vertical axis per parameter and one for ``metric``; each run is
    a line coloured by the metric (categorical axes keep None and missing as categories); over
    ``MAX_LINES`` runs, a sample of them (the axes' ranges are the sample's)."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    df, note = sample(df, MAX_LINES)

    axes_values: list[list[float]] = []
    labels: list[list[tuple[float, str]]] = []
    for col in [*params, metric]:
        values, order = axis_values(df, col) if col != metric else (list(_floats(df[col])), None)
        if order is not None:
            pos = {t: i / max(len(order) - 1, 1) for i, t in enumerate(order)}
            axes_values.append([pos[t] for t in values])
            labels.append([(pos[t], t) for t in order])
        else:
            finite = [v for v in values if math.isfinite(v)]  # ±inf: no range of its own
            lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
            span = (hi - lo) or 1.0
            axes_values.append([(v - lo) / span if not math.isnan(v) else math.nan for v in values])
            labels.append([(0.0, _text(lo)), (1.0, _text(hi))])
    score = axes_values[-1]
    cmap = colormaps["viridis"]
    name = metric.removeprefix("scraps.")
    with _quiet():
        fig = Figure(figsize=(1.6 * len(axes_values) + 1, 3.2))
        ax = fig.subplots()
        xs = list(range(len(axes_values)))
        lines = [list(zip(xs, [a[i] for a in axes_values], strict=True)) for i in range(len(df))]
        colours = [cmap(s) if not math.isnan(s) else (0.6, 0.6, 0.6, 1) for s in score]
        if note:  # one collection draws a sample's lines many times faster than a plot each
            from matplotlib.collections import LineCollection

            ax.add_collection(LineCollection(lines, colors=colours, alpha=0.8, linewidths=1.2))
            ax.autoscale_view()
        for line, colour in zip([] if note else lines, colours, strict=False):
            ax.plot(xs, [y for _, y in line], color=colour, alpha=0.8, linewidth=1.2)
        for x, ticks in zip(xs, labels, strict=True):
            ax.axvline(x, color="#999", linewidth=0.8)
            for y, text in ticks:
                ax.text(x + 0.03, y, text[:20], fontsize=7, va="center")
        ax.set_xticks(xs, [c.split(".", 1)[-1] for c in [*params, metric]], fontsize=8)
        ax.set_yticks([])
        ax.set_ylim(-0.05, 1.05)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        fig.suptitle(f"{name}: parallel coordinates{note}", fontsize=10)
        title = f"{name}: parallel coordinates of {len(params)} parameters{note}"
        return Plot(group, title, _png(fig))


def duration_plot(rows: Sequence[Sequence[Any]], of: int | None = None) -> Plot | None:
    """Run durations by notebook and status, from ``(duration_s, notebook, status)`` rows in id
    order (``durations.durations``; over ``MAX_POINTS`` runs, a sample of them). ``of``: the
    number of runs ``rows`` are the sample of (``sample_rows(of, MAX_POINTS)``, read without
    the others); None: ``rows`` are every run. A sample is drawn with numpy and matplotlib
    alone (``points``), without importing pandas or seaborn."""
    import numpy as np
    from matplotlib.figure import Figure

    if not any(r[0] is not None and not math.isnan(r[0]) for r in rows):
        return None
    note = ""
    if of is not None:
        note = sample_note(len(rows), of)
    elif (keep := sample_rows(len(rows), MAX_POINTS)) is not None:
        rows, note = [rows[i] for i in keep], sample_note(MAX_POINTS, len(rows))
    durations = np.array([np.nan if r[0] is None else float(r[0]) for r in rows])
    notebooks = np.array([_label(r[1]) for r in rows], dtype=object)
    statuses = np.array([_label(r[2]) for r in rows], dtype=object)
    with _quiet():
        fig = Figure(figsize=(7, 0.5 + 0.45 * len(set(notebooks)) + 1.2))
        ax = fig.subplots()
        if note:
            points.strips(ax, durations, list(notebooks), list(statuses))
            ax.set_ylabel("notebook")
            ax.set_title(note.strip(" ()"), fontsize=9)
        else:
            import pandas as pd
            import seaborn as sns

            data = pd.DataFrame({"duration": durations, "notebook": notebooks, "status": statuses})
            sns.stripplot(data=data, x="duration", y="notebook", hue="status", ax=ax)
        ax.set_xlabel("duration (s)")
        ax.set_xlim(left=0)
        return Plot("all runs", "run durations" + note, _png(fig))


def _label(value: Any) -> str:
    """A notebook's or status's text on the durations figure (a missing one: ``<NA>``)."""
    return "<NA>" if value is None else str(value)
