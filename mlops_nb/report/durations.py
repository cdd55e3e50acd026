"""The run durations figure's rows, read from the runs index: at 100,000 runs only the sample
the figure draws (``plots.sample_rows``), never every row. Nothing here imports pandas; the
painter (``report.painter``) draws the figure whole, reading its sample itself."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlops_nb.report.outline import Selection, _query

if TYPE_CHECKING:
    from mlops_nb.report.plots import Plot


def durations(
    sel: Selection, most: int, every: Sequence[tuple[Any, ...]] | None = None
) -> tuple[list[tuple[Any, ...]], int | None]:
    """Selected runs' ``(duration_s, notebook, status)`` rows, in id order, and how many runs
    there are when that is more than ``most``: then the rows are only the sample of them that
    ``plots.sample`` would keep (``plots.sample_rows``): the selected ids are read, then the
    sample's rows alone (at 100,000 runs reading every row cost more than the figure).
    No rows when none of them has a duration. ``every``: those rows of every selected run,
    when ``frames`` read them already. Nothing here imports pandas."""
    from mlops_nb.report.plots import sample_rows

    if every is not None:
        keep = sample_rows(len(every), most)
        rows = list(every) if keep is None else [every[i] for i in keep]
        of = None if keep is None else len(every)
    else:
        ids = [i for (i,) in _query(sel, "SELECT id FROM runs{where} ORDER BY id")]
        keep = sample_rows(len(ids), most)
        of = None if keep is None else len(ids)
        if keep is None:
            rows = _query(sel, _DURATIONS)
        else:
            picked = json.dumps([ids[i] for i in keep])
            rows = _query(sel, _DURATIONS, "id IN (SELECT value FROM json_each(?))", [picked])
    return (rows if any(r[0] is not None for r in rows) else []), of


_DURATIONS = "SELECT duration_s, {notebook}, status FROM runs{where} ORDER BY id"


def duration_figure(sel: Selection, every: Sequence[tuple[Any, ...]] | None = None) -> Plot | None:
    """The run durations figure of the selection (``plots.duration_plot`` of ``durations``'
    sample; ``every``: as ``durations``'). The painter draws it whole (``report.painter``):
    the page then neither reads its sample nor imports numpy to draw it."""
    from mlops_nb.report.plots import MAX_POINTS, duration_plot

    return duration_plot(*durations(sel, MAX_POINTS, every))
