"""Points of a sample of runs, drawn with matplotlib alone.

Over ``plots.MAX_POINTS`` runs a figure shows a sample of them as points, and for points
seaborn adds nothing but an import that costs about a second (it imports SciPy's statistics):
a report of 100,000 runs draws its figures with these instead. Matplotlib's default colours, as
seaborn's; categorical axes keep the order ``plots.axis_values`` gives (None, values, missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

JITTER = 0.15  # half the width of a category's strip, as the seaborn strip plots
SIZE = 12  # marker area (points²)


def _jitter(n: int) -> Any:
    import numpy as np

    return np.random.default_rng(0).uniform(-JITTER, JITTER, n)  # seeded: the same page twice


def scatter(ax: Any, x: Sequence[Any], y: Any, order: Sequence[str] | None) -> None:
    """``y`` against ``x`` on ``ax``: a numeric axis (``order`` None) or categories in ``order``."""
    if order is None:
        ax.scatter(x, y, s=SIZE, alpha=0.5, linewidths=0)
        return
    where = {text: i for i, text in enumerate(order)}
    ax.scatter([where[t] for t in x] + _jitter(len(x)), y, s=SIZE, alpha=0.5, linewidths=0)
    ax.set_xticks(range(len(order)), list(order))
    ax.set_xlim(-0.5, len(order) - 0.5)


def strips(ax: Any, values: Any, rows: Sequence[str], hues: Sequence[str]) -> None:
    """One horizontal strip of points per distinct ``rows`` value (first seen on top), coloured
    by ``hues`` with a legend."""
    import numpy as np

    names = list(dict.fromkeys(rows))
    where = {name: i for i, name in enumerate(names)}
    ys = np.array([where[r] for r in rows], dtype=float) + _jitter(len(rows))
    hue = np.array(hues, dtype=object)
    for h in dict.fromkeys(hues):
        mask = hue == h
        ax.scatter(np.asarray(values)[mask], ys[mask], s=SIZE, alpha=0.6, linewidths=0, label=h)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.legend(title="status", fontsize=8)
