"""The ``mlops-nb collect`` command a section's hints print ("N more runs not shown ... list
them all with ...", "failed runs not listed; see them with ..."): the page's own filters,
narrowed to the section, so that pasted it lists the runs the hint talks about, not the store's.

A pipeline step's section is ``--pipeline NAME --step STEP``; a sweep's is ``--sweep ID`` (an
id is that sweep alone); a notebook's is ``--notebook PATH --where "sweep == None"`` (collect
has no filter for "not a pipeline step": a step that ran that notebook outside a sweep is
listed with it). The page's ``--status`` and ``--where`` are kept (the failed runs' hint keeps
the failed statuses the page shows).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlops_nb.report.views import FAILED
from mlops_nb.store.hints import command

if TYPE_CHECKING:
    from mlops_nb.report.views import Section
    from mlops_nb.results.filter import RunFilter

NO_SWEEP = "sweep == None"  # `--where`: the runs of no sweep (a notebook's section)


def section_filter(sec: Section, chosen: RunFilter | None) -> RunFilter:
    """The page's filter ``chosen`` narrowed to the runs of ``sec``."""
    from mlops_nb.results.filter import RunFilter

    page = chosen or RunFilter()
    notebook, sweep, pipeline, where = page.notebook, page.sweep, page.pipeline, page.where
    step = page.step
    if sec.step:
        pipeline, step = sec.step
    else:
        first = sec.df["sweep"][0] if len(sec.df) else None
        if isinstance(first, str):
            sweep = first
        else:
            known = sec.notebook if sec.notebook != "<NA>" else notebook
            notebook, where = known, _both(where, NO_SWEEP)
    return RunFilter(notebook, sweep, pipeline, page.status, where, step)


def _both(where: str | None, condition: str) -> str:
    return f"({where}) and {condition}" if where else condition


def words(f: RunFilter) -> list[str]:
    """``collect``'s flags for ``f`` (``--sweep ID --status ok,failed ...``), one word each."""
    from mlops_nb.results.filter import FIELDS

    out = []
    for name in FIELDS:
        value = getattr(f, name)
        if value:
            out += [f"--{name}", ",".join(value) if name == "status" else str(value)]
    return out


def listing(
    sec: Section,
    chosen: RunFilter | None,
    runs_dir: str | os.PathLike[str] | None,
    *,
    failed: bool = False,
) -> str:
    """The command that lists the runs of ``sec`` on the page (``failed``: its failed ones)."""
    f = section_filter(sec, chosen)
    if failed:
        from mlops_nb.results.filter import RunFilter

        statuses: Sequence[str] = [s for s in FAILED if not f.status or s in f.status]
        f = RunFilter(f.notebook, f.sweep, f.pipeline, list(statuses), f.where, f.step)
    return command("collect", *words(f), runs_dir=runs_dir)
