"""What the page shows, as values: a section of runs, a pipeline invocation and its steps, an
image a run saved. Built by ``mlops_nb.report.model`` (which reads the store) and turned into HTML
by the page modules; this module imports nothing of the package, so the page modules do not
depend on the pipeline package that ``model`` reads pipeline files with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_nb.report.rows import Rows

FAILED = ("failed", "timeout", "interrupted")
# What one page shows, whatever the store's size (100,000 runs stay a page one can open):
MAX_ROWS = 50  # runs per section in the leaderboard and the run details, best first
MAX_FAILED = 20  # failed runs listed with their error, per section
MAX_SECTIONS = 12  # sections shown in full; the others are a line each in a table
MAX_FIGURES = 12  # figures of metrics against parameters, pipeline steps' first, then the newest
NARROW = "narrow with --where, --status, --sweep or --notebook"


@dataclass(frozen=True)
class Image:
    """An image a run saved: where it came from (an artifact path or ``cell N``) and a data URI."""

    source: str
    uri: str


@dataclass(frozen=True)
class Section:
    """Runs compared with each other: one pipeline step, one sweep, or one notebook."""

    key: str  # anchor-safe identifier
    title: str
    notebook: str
    df: Rows  # its runs, best first
    sort: str | None = None  # the column the leaderboard is sorted by
    select: str | None = None  # a pipeline step's selection metric (scrap name)
    step: tuple[str, str] | None = None  # (pipeline, step) for a pipeline step's runs
    shown: tuple[int, ...] | None = None  # the rows on the page (their rank - 1); None: all

    @property
    def ranks(self) -> tuple[int, ...]:
        """The rank - 1 of each run the leaderboard and the run details show."""
        return tuple(range(len(self.df))) if self.shown is None else self.shown

    @property
    def rows(self) -> Rows:
        """The runs the leaderboard and the run details show (best first)."""
        return self.df if self.shown is None else self.df.take(self.shown)

    @property
    def hidden(self) -> int:
        """How many runs of the section are not shown."""
        return len(self.df) - len(self.ranks)


@dataclass(frozen=True)
class StepView:
    """One step of one pipeline invocation, as the headline shows it."""

    name: str
    status: str | None
    action: str
    run_id: str | None
    upstream: tuple[str, ...]
    detail: str = ""
    scraps: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    show: tuple[str, ...] = ()
    sweep: bool = False


@dataclass(frozen=True)
class Invocation:
    """One ``pipeline run`` of a pipeline: its steps in the order they ran."""

    pipeline: str
    id: str
    finished_at: str | None
    ok: bool | None
    steps: tuple[StepView, ...]
