"""The page's outline, read from the runs index with SQL aggregates: which sections the runs
form, how many runs each has and how many failed, when its last run started, and a fingerprint
of its runs. Nothing here decodes a run's parameters or scraps or imports pandas: at 100,000 runs
one pass over every row in Python costs more than the page may take (issue 18: ``report`` at
100,000 runs in 1 s). The rows of a section are read (``frames``) only when the page has to
draw it anew (``mlops_nb.report.cache``).

A section is a pipeline step's runs, a sweep's, or a notebook's (``model.group_of``); SQL groups
the runs by (sweep, notebook, pipeline name, pipeline step) and Python maps each group to its
section, so both agree with ``model.sections`` by construction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb.report import model
from mlops_nb.report.views import FAILED
from mlops_nb.results.filter import STATUSES

if TYPE_CHECKING:
    from mlops_nb.report.rows import Rows

# The pipeline key's name and step, NULL unless the key is a JSON object (as `model.pipelines`).
_OBJ = "(pipeline IS NOT NULL AND json_valid(pipeline) AND json_type(pipeline) = 'object')"
_PNAME = f"CASE WHEN {_OBJ} THEN json_extract(pipeline, '$.name') END"
_PSTEP = f"CASE WHEN {_OBJ} THEN json_extract(pipeline, '$.step') END"
# `{notebook}`: the run's notebook key (`notebooks.key_sql`), put in by `_query`
_GROUP = f"sweep_id, {{notebook}}, {_PNAME}, {_PSTEP}"
# A section's fingerprint: its run count, first and last ids, its runs counted by status (the
# index marks a run whose driver died `lost` without rewriting its record), and the newest and
# the sum (mod a prime, so that SQLite's integers cannot overflow) of its records' modification
# times: a run added, removed, rewritten (a status, a scrap) or found lost changes it.
_PRIME = 1_000_000_007
# Per section: `count(*), min(id), max(id), max(started_at), sum(status IN FAILED),
# max(record_mtime_ns), sum(record_mtime_ns % _PRIME)` and `sum(status = s)` for each of
# STATUSES, then of any other status; in two steps: the runs grouped by the raw columns the
# section and the status come from (the index's covering index `runs_by_section` holds them in
# this order: one pass over it, no sort, no row of the table read), then those few groups by
# section, the JSON of each distinct `pipeline` read once (not once a run: issue 18). A
# count by status is `count(*)` of a status's group: `(status = 's') * n` adds it (NULL for a
# NULL status, as `sum(status = 's')` ignores those rows).
_RAW = "sweep_id, notebook_abspath, notebook, pipeline, status"
_PER_RAW = (
    "count(*) AS n, min(id) AS first, max(id) AS last, max(started_at) AS started, "
    f"max(record_mtime_ns) AS mtime, sum(record_mtime_ns % {_PRIME}) AS mtimes"
)
_OF_RAW = ", ".join(
    [
        "sum(n), min(first), max(last), max(started)",
        f"sum((status IN ({', '.join(repr(s) for s in FAILED)})) * n)",
        "max(mtime), sum(mtimes)",
    ]
    + [f"sum((status = '{s}') * n)" for s in STATUSES]
    + [f"sum((status NOT IN ({', '.join(repr(s) for s in STATUSES)})) * n)"]
)
_OUTLINE = (
    f"SELECT {_GROUP}, {_OF_RAW} FROM (SELECT {_RAW}, {_PER_RAW} FROM runs{{where}} "
    "GROUP BY sweep_id, notebook_abspath, notebook, pipeline, status) GROUP BY 1, 2, 3, 4"
)

# Each pipeline's file, from its newest run (`max`'s row), over the runs with a pipeline key
# (the index's partial index `runs_by_pipeline`: none to read in a store without pipelines).
_PIPES = (
    f"SELECT {_PNAME}, CASE WHEN {_OBJ} THEN json_extract(pipeline, '$.file') END, max(id) "
    "FROM runs{where} GROUP BY 1"
)


@dataclass(frozen=True)
class Selection:
    """The runs a page covers: the index rows matching ``sql`` (``RunFilter.sql()``) and, when
    ``ids`` is given (the runs a ``where`` filter kept, or a frame's), only those."""

    runs_dir: Path
    sql: str = ""
    args: tuple[Any, ...] = ()
    ids: tuple[str, ...] | None = None

    @property
    def digest(self) -> str:
        """Which runs it covers, as a key (two filters never share a cache entry)."""
        text = json.dumps([self.sql, list(self.args), self.ids], default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def where(self, extra: str = "", extra_args: Sequence[Any] = ()) -> tuple[str, list[Any]]:
        """The SQL ``WHERE`` clause (with the keyword, or empty) and its arguments: the
        selection's, and ``extra``'s condition with ``extra_args``."""
        conds = [c for c in (self.sql, extra) if c]
        args = [*self.args, *extra_args]
        if self.ids is not None:
            conds.append("id IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(self.ids))
        return (" WHERE " + " AND ".join(f"({c})" for c in conds) if conds else ""), args


@dataclass
class Outline:
    """One section as the index sums it up (``key``: ``model.group_of``'s, before ``slug``)."""

    key: str
    title: str
    notebook: str
    step: tuple[str, str] | None
    count: int = 0
    failed: int = 0
    last_started: str | None = None
    parts: list[Any] = field(default_factory=list)
    groups: list[tuple[Any, ...]] = field(default_factory=list)  # its (sweep, notebook, ...)s

    @property
    def slug(self) -> str:
        return model.slug(self.key)

    @property
    def fingerprint(self) -> str:
        return json.dumps([self.count, *self.parts])

    @property
    def started_ts(self) -> float:
        """Its last run's start (seconds since the epoch; 0 when unknown)."""
        try:
            return dt.datetime.fromisoformat(str(self.last_started)).timestamp()
        except ValueError:
            return 0.0

    def add(self, row: Sequence[Any]) -> None:
        """Count in one SQL group's aggregates (``_OUTLINE``'s, in order)."""
        count, first, last, started, failed, mtime, mtime_sum, *statuses = row
        self.count += count
        self.failed += failed or 0
        if started and (self.last_started is None or started > self.last_started):
            self.last_started = started
        old = self.parts or [first, last, mtime, 0, [0] * len(statuses)]
        self.parts = [
            min(old[0], first),
            max(old[1], last),
            max(old[2] or 0, mtime or 0),
            (old[3] + (mtime_sum or 0)) % _PRIME,
            [a + (b or 0) for a, b in zip(old[4], statuses, strict=True)],
        ]


@dataclass(frozen=True)
class Page:
    """The outline of every section (in order of their first run), the runs counted by status,
    and each pipeline's file (``{name: file}``, from its newest run)."""

    outlines: list[Outline]
    statuses: dict[str, int]
    pipelines: dict[Any, Any]

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def fingerprint(self) -> str:
        """Of every section at once (the figures over all runs, the columns)."""
        text = json.dumps([(o.key, o.fingerprint) for o in self.outlines])
        return hashlib.sha256(text.encode()).hexdigest()


def _group(
    sweep: Any, notebook: Any, pname: Any, pstep: Any
) -> tuple[str, str, tuple[str, str] | None]:
    rec = {"pipeline": {"name": pname, "step": pstep}} if pname or pstep else {}
    nb = "<NA>" if notebook is None else str(notebook)
    key, title = model.group_of(rec, nb, sweep if isinstance(sweep, str) else None)
    return key, title, model.step_of(rec)


def _query(
    sel: Selection,
    sql: str,
    extra: str = "",
    extra_args: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (its ``{where}``: the selection's, and ``extra``'s condition)."""
    from mlops_nb.report.notebooks import key_sql
    from mlops_nb.store import index

    where, args = sel.where(extra, extra_args)
    sql = sql.replace("{where}", where).replace("{notebook}", key_sql(sel.runs_dir))

    @index._fork_safe  # the pipeline's report step reads while other steps fork kernels
    def read() -> list[tuple[Any, ...]]:
        conn = index.open_index(sel.runs_dir, sync=False)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    return read()


def read(sel: Selection) -> Page:
    """The page's outline (``Page``). Call it after ``query.columns`` or ``collect``, which
    brought the index up to date."""
    groups = _query(sel, _OUTLINE)
    found: dict[str, Outline] = {}
    for row in sorted(groups, key=lambda r: str(r[5])):  # by first run: the page's order
        key, title, step = _group(*row[:4])
        found.setdefault(key, Outline(key, title, "<NA>" if row[1] is None else str(row[1]), step))
        found[key].add(row[4:])
        found[key].groups.append(tuple(row[:4]))
    statuses = _query(sel, "SELECT status, count(*) FROM runs{where} GROUP BY status")
    pipes = _query(sel, _PIPES, "pipeline IS NOT NULL")
    return Page(
        list(found.values()),
        {str(s): int(n) for s, n in statuses},
        {name: file for name, file, _ in pipes if name is not None},
    )


def sections_of(sel: Selection, ids: Collection[str]) -> dict[str, str]:
    """``{run id: its section's key}`` for the runs of ``ids`` the selection has (e.g. the runs
    a registry alias points to)."""
    if not ids:
        return {}
    rows = _query(
        sel,
        f"SELECT id, {_GROUP} FROM runs{{where}}",
        "id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(ids))],
    )
    return {str(r[0]): _group(*r[1:])[0] for r in rows}


_MOST_GROUPS = 200  # SQL conditions per query; past that, every selected row is read


def _of_groups(outlines: Sequence[Outline], *, scan: bool) -> tuple[str, list[Any]]:
    """The SQL condition (and its arguments) for the runs of these sections' groups; none (the
    whole selection) when ``scan`` or past ``_MOST_GROUPS`` groups."""
    groups = [g for o in outlines for g in o.groups]
    if scan or len(groups) > _MOST_GROUPS:
        return "", []
    one = f"(sweep_id IS ? AND {{notebook}} IS ? AND {_PNAME} IS ? AND {_PSTEP} IS ?)"
    return " OR ".join([one] * len(groups)), [v for g in groups for v in g]


def frames(
    sel: Selection,
    outlines: Sequence[Outline],
    *,
    scan: bool = False,
    every: list[tuple[Any, ...]] | None = None,
) -> dict[str, tuple[Rows, dict[str, dict[str, Any]]]]:
    """``{section key: (its runs, their pipeline keys)}`` for the sections ``outlines``
    (``scan``: read the whole selection and keep theirs, cheaper than a condition per group
    when they hold most of its runs: one pass either way). The runs are typed on their own
    (``rows.Rows``: collect's columns, each kind from that section's runs, so a section looks
    the same whichever others are drawn with it); the pipeline keys map its runs of pipeline
    steps to their record's ``pipeline`` (``model.pipelines``' shape). ``every`` (with
    ``scan``) receives each selected run's ``durations`` row, in id order. No pandas."""
    from mlops_nb.report.rows import Rows
    from mlops_nb.results.collect import INDEX_COLUMNS, no_cycle_collection

    wanted = {o.key for o in outlines}
    names = (*INDEX_COLUMNS, "pipeline")
    chosen = ["{notebook}" if n == "notebook" else n for n in names]
    sql = f"SELECT {', '.join(chosen)}, {_GROUP} FROM runs{{where}} ORDER BY id"
    rows = _query(sel, sql, *_of_groups(outlines, scan=scan))
    if scan and every is not None:
        at = [names.index(c) for c in ("duration_s", "notebook", "status")]
        every.extend(tuple(r[i] for i in at) for r in rows)
    by_key: dict[str, list[tuple[Any, ...]]] = {}
    memo: dict[tuple[Any, ...], str] = {}
    n = len(names)
    for row in rows:
        group = row[n:]
        key = memo.get(group) or memo.setdefault(group, _group(*group)[0])
        if key in wanted:
            by_key.setdefault(key, []).append(row[:n])
    out = {}
    with no_cycle_collection():
        for key, section in by_key.items():
            cols = dict(zip(names, map(list, zip(*section, strict=True)), strict=True))
            out[key] = (Rows.of_columns(cols), _pipelines(cols["id"], cols["pipeline"]))
    return out


def _pipelines(ids: Iterable[str], texts: Iterable[Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for rid, text in zip(ids, texts, strict=True):
        if text is None:
            continue
        try:
            pipe = json.loads(text)
        except ValueError:
            continue
        if isinstance(pipe, dict):
            out[str(rid)] = {"pipeline": pipe}
    return out


def columns(sel: Selection) -> list[str]:
    """The columns ``collect`` would give these runs (its ``BASE``, then each parameter and
    scrap, then ``error``), read with SQLite's ``json_each`` (no row decoded in Python)."""
    keys = column_keys(sel).values()
    return named_columns(
        [k for one in keys for k in one["params"]], [k for one in keys for k in one["scraps"]]
    )


def named_columns(params: Iterable[str], scraps: Iterable[str]) -> list[str]:
    """``collect``'s columns for runs with these parameter and scrap names (any order)."""
    from mlops_nb.results.collect import BASE, PARAM, SCRAP

    out = list(BASE)
    out += [PARAM + k for k in sorted(set(params)) if k != "output_dir"]
    out += [SCRAP + k for k in sorted(set(scraps))]
    return [*out, "error"]


def column_keys(
    sel: Selection, outlines: Sequence[Outline] | None = None
) -> dict[str, dict[str, list[str]]]:
    """``{section key: {"params": names, "scraps": names}}`` (sorted) of the sections
    ``outlines`` (None: every section of the selection), read with SQLite's ``json_each``."""
    wanted = None if outlines is None else {o.key for o in outlines}
    extra, args = _of_groups(outlines or [], scan=outlines is None)
    out: dict[str, dict[str, set[str]]] = {}
    memo: dict[tuple[Any, ...], str] = {}
    for col in ("params", "scraps"):
        sql = (  # distinct (sweep, notebook, pipeline, name) first: fewer json_extract calls
            f"SELECT sweep_id, notebook, {_PNAME}, {_PSTEP}, k FROM (SELECT DISTINCT sweep_id, "
            "notebook, pipeline, j.key AS k FROM (SELECT sweep_id, {notebook} AS notebook, "
            f"pipeline, {col} AS doc FROM runs{{where}}) r, json_each(CASE WHEN json_valid(r.doc) "
            "THEN r.doc ELSE '{}' END) j)"
        )
        for *group, name in _query(sel, sql, extra, args):
            key = memo.get(tuple(group)) or memo.setdefault(tuple(group), _group(*group)[0])
            if wanted is None or key in wanted:
                out.setdefault(key, {"params": set(), "scraps": set()})[col].add(str(name))
    keys = wanted if wanted is not None else set(out)
    empty: dict[str, set[str]] = {"params": set(), "scraps": set()}
    return {k: {c: sorted(v) for c, v in out.get(k, empty).items()} for k in keys}


def in_full(outlines: Sequence[Outline], most: int) -> tuple[list[Outline], list[Outline]]:
    """The sections shown in full (``most`` of them by ``priority``, in page order) and the
    others."""
    if len(outlines) <= most:
        return list(outlines), []
    keep = {o.key for o in priority(outlines)[:most]}
    return [o for o in outlines if o.key in keep], [o for o in outlines if o.key not in keep]


def priority(outlines: Sequence[Outline]) -> list[Outline]:
    """Pipeline steps' sections first, then the newest (by their last run's start; on a tie,
    the one whose first run came later)."""
    order = sorted(
        enumerate(outlines), key=lambda item: (item[1].step is None, -item[1].started_ts, -item[0])
    )
    return [o for _, o in order]


def pinned_by_section(sel: Selection, pinned: Collection[str]) -> Mapping[str, list[str]]:
    """``{section key: the pinned runs in it, sorted}``."""
    out: dict[str, list[str]] = {}
    for rid, key in sorted(sections_of(sel, pinned).items()):
        out.setdefault(key, []).append(rid)
    return out
