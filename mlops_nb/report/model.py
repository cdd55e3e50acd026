"""What the report shows, gathered from the runs store: sections (one per pipeline step, sweep or
notebook) and pipeline invocations (for the headline); the images each run saved are read by
``mlops_nb.report.images``.

Pure reading: the runs index, the records of the runs the page shows (``run.json``), the model
registry and the pipeline records under ``<runs dir>/pipelines/<name>/`` (written by
``mlops_nb.pipeline``). No HTML here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb.report.rows import present, sorted_positions
from mlops_nb.report.views import MAX_ROWS, Invocation, Section, StepView

if TYPE_CHECKING:
    from mlops_nb.report.rows import Rows

MAX_INVOCATIONS = 3  # headlines: the newest pipeline invocations


def read_record(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def records(runs_dir: Path, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The run records of ``ids`` (an unreadable one is an empty dict)."""
    return {i: read_record(runs_dir / i) for i in ids}


def pipelines(runs_dir: Path, ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """``{run id: {"pipeline": its record's pipeline key}}`` for the runs of ``ids`` that a
    pipeline ran, read from the runs index (never from the run folders: at 100,000 runs reading
    every ``run.json`` took most of a minute). Call it after ``collect``, which brought the
    index up to date."""
    wanted = set(ids)
    rows = _pipeline_rows(runs_dir)
    out = {}
    for rid, text in rows:
        if rid in wanted:
            pipe = json.loads(text)
            if isinstance(pipe, dict):
                out[rid] = {"pipeline": pipe}
    return out


def _pipeline_rows(runs_dir: Path) -> list[tuple[str, str]]:
    from mlops_nb.store import index

    @index._fork_safe  # the pipeline's report step reads while other steps fork kernels
    def read() -> list[tuple[str, str]]:
        conn = index.open_index(runs_dir, sync=False)
        try:
            sql = "SELECT id, pipeline FROM runs WHERE pipeline IS NOT NULL"
            return [(str(r[0]), str(r[1])) for r in conn.execute(sql)]
        finally:
            conn.close()

    return read()


def alias_runs(runs_dir: Path) -> set[str]:
    """The runs a model registry alias (champion, live...) points to: a section shows them even
    below its best ``MAX_ROWS`` (``runs/registry/<MODEL>.json``, see ``mlops_nb.registry``)."""
    from mlops_nb.errors import MlopsNbError
    from mlops_nb.registry import store as registry

    out = set()
    for name in registry.model_names(runs_dir):
        try:
            doc = registry.read_model(runs_dir, name) or {}
        except MlopsNbError:  # the headline says so; the sections do without it
            continue
        runs = {v.get("version"): v.get("run_id") for v in doc.get("versions", [])}
        out |= {str(runs[v]) for v in (doc.get("aliases") or {}).values() if runs.get(v)}
    return out


def step_of(rec: Mapping[str, Any]) -> tuple[str, str] | None:
    """(pipeline, step) of a pipeline step's run, else None."""
    pipe = rec.get("pipeline")
    if isinstance(pipe, dict) and pipe.get("name") and pipe.get("step"):
        return str(pipe["name"]), str(pipe["step"])
    return None


def group_of(rec: Mapping[str, Any], notebook: str, sweep: Any) -> tuple[str, str]:
    step = step_of(rec)
    if step:
        return f"step-{step[0]}-{step[1]}", f"{step[0]} · step {step[1]}"
    if isinstance(sweep, str):
        return f"sweep-{sweep}", f"sweep {sweep}"
    return f"notebook-{notebook}", f"notebook {Path(notebook).name}"


def sections(
    df: Rows,
    recs: Mapping[str, Mapping[str, Any]],
    *,
    sort: str | None,
    ascending: bool,
    selects: Mapping[str, str],
    pinned: Collection[str] = (),
) -> list[Section]:
    """``df`` split into sections (in order of each section's first run); each sorted best first.

    ``recs``: run id → its record, or at least its ``pipeline`` key (``pipelines``), for the
    runs of pipeline steps; ``sort`` applies where the section has that column; otherwise a
    pipeline step's selection metric (``selects``: section key → scrap), otherwise the first
    float scrap. A section shows its best ``MAX_ROWS`` runs, and those of ``pinned`` (the runs a
    registry alias points to, see ``alias_runs``) wherever they rank.
    """
    keys: list[str] = []
    titles: dict[str, str] = {}
    notebooks: dict[str, str] = {}
    steps: dict[str, tuple[str, str] | None] = {}
    plain: dict[tuple[Any, Any], tuple[str, str]] = {}  # runs no pipeline ran: by notebook, sweep
    for rid, nb, sweep in zip(df["id"], df["notebook"], df["sweep"], strict=True):
        rec = recs.get(str(rid), {})
        if rec or (nb, sweep) not in plain:
            group = group_of(rec, _text(nb), sweep if isinstance(sweep, str) else None)
            if not rec:
                plain[nb, sweep] = group
        key, title = group if rec else plain[nb, sweep]
        if key not in titles:
            steps[key], titles[key], notebooks[key] = step_of(rec), title, _text(nb)
        keys.append(key)
    positions: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        positions.setdefault(key, []).append(i)
    out = []
    for key, rows in positions.items():
        sub = _nonempty(df if len(rows) == len(df) else df.take(rows))  # one section: no copy
        select = selects.get(key)
        column = _sort_column(sub, sort, select)
        if column:
            sub = sub.take(sorted_positions(sub[column], ascending=ascending))
        shown = _shown(sub, pinned)
        out.append(
            Section(slug(key), titles[key], notebooks[key], sub, column, select, steps[key], shown)
        )
    return out


def _text(value: Any) -> str:
    """A value as pandas' ``str`` shows it (a missing one: ``<NA>``)."""
    return "<NA>" if value is None else str(value)


def _shown(df: Rows, pinned: Collection[str]) -> tuple[int, ...] | None:
    """The ranks (- 1) of the best ``MAX_ROWS`` rows of a sorted section and of the pinned runs
    below them; None when it shows every row."""
    if len(df) <= MAX_ROWS:
        return None
    wanted = set(pinned)
    below = [i for i, rid in enumerate(df["id"][MAX_ROWS:], MAX_ROWS) if rid in wanted]
    return (*range(MAX_ROWS), *below)


def _nonempty(df: Rows) -> Rows:
    """Only the columns that hold something in these runs (a None parameter counts)."""
    ids = set(df["id"])
    empty = [
        c
        for c in df.columns
        if c.startswith(("params.", "scraps."))
        and not present(df[c])
        and not df.nulls.get(c, frozenset()) & ids
    ]
    return df.without(empty) if empty else df


def _sort_column(df: Rows, sort: str | None, select: str | None) -> str | None:
    from mlops_nb.errors import UsageError
    from mlops_nb.results.collect import resolve_name

    for wanted in (sort, select):
        if wanted:
            try:
                return resolve_name(df.columns, wanted)
            except UsageError:
                continue
    floats = [c for c in df.columns if c.startswith("scraps.") and df.kinds[c] == "Float64"]
    # a metric that tells the runs apart, not a baseline or a constant
    telling = [
        c for c in floats if not c.startswith("scraps.baseline") and len(set(present(df[c]))) > 1
    ]
    return next(iter(telling or floats), None)


def slug(text: str) -> str:
    """A section's anchor: ``text`` itself when it is made of ``A-Z a-z 0-9 _ . -`` (and
    neither starts nor ends with ``-``), else its runs of other characters as ``-`` and ``~``
    with the start of its SHA-256 (sweeps ``a b`` and ``a/b`` would both be ``a-b``). Unique
    (``~`` is in no plain anchor) and stable: it depends on ``text`` alone, not on the other
    sections of the page."""
    return _slug(text, text)


def _slug(text: str, unique: str | None) -> str:
    """``slug``; ``unique`` (None: the plain form is unique) is what the hash is of."""
    plain = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "section"
    if plain == text and unique == text:
        return plain
    return f"{plain}~{hashlib.sha256(str(unique).encode()).hexdigest()[:12]}"


def headline_anchor(pipeline: str, invocation: str) -> str:
    """A pipeline invocation's headline anchor: ``headline-NAME-ID`` as ``slug`` makes it; with
    a ``-`` in the pipeline's name the text does not say where the name ends (``a-b`` + ``c``,
    ``a`` + ``b-c``), so it gets the hash of the pair."""
    text = f"{pipeline}-{invocation}"
    return "headline-" + _slug(
        text, json.dumps([pipeline, invocation]) if "-" in pipeline else text
    )


def invocations(
    runs_dir: Path,
    names: Sequence[str],
    recs: Mapping[str, Mapping[str, Any]],
    current: Mapping[str, Any] | None = None,
) -> list[Invocation]:
    """The newest invocations of each pipeline in ``names`` (``current``: the one now running,
    as the pipeline engine hands it to its report step), newest first."""
    out: list[Invocation] = []
    for name in names:
        found: list[Mapping[str, Any]] = []
        if current and current.get("pipeline") == name:
            found.append(current)
        folder = runs_dir / "pipelines" / name / "runs"
        files = sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []
        for f in files[: MAX_INVOCATIONS - len(found)]:
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("id") != (current or {}).get("id"):
                found.append(data)
        shows = pipeline_file(found[0].get("file") if found else None, runs_dir).shows
        out += [_invocation(name, d, runs_dir, recs, shows) for d in found]
    return out


@dataclass(frozen=True)
class PipelineInfo:
    """What the report takes from a pipeline file: each step's ``show:`` and ``select`` metric."""

    shows: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    selects: Mapping[str, str] = field(default_factory=dict)


def pipeline_file(file: Any, runs_dir: Path) -> PipelineInfo:
    """The pipeline file a record names (relative to the working folder or the store's parent),
    when it can still be read; otherwise nothing."""
    if not isinstance(file, str):
        return PipelineInfo()
    from mlops_nb.errors import MlopsNbError
    from mlops_nb.pipeline import spec

    for base in (Path.cwd(), runs_dir.parent):
        path = base / file
        if path.is_file():
            try:
                p = spec.load(path)
            except MlopsNbError:
                return PipelineInfo()
            return PipelineInfo(
                {s.name: s.show for s in p.steps.values()},
                {
                    f"step-{p.name}-{s.name}": str(s.select["metric"])
                    for s in p.steps.values()
                    if s.select and s.select.get("metric")
                },
            )
    return PipelineInfo()


def _invocation(
    name: str,
    data: Mapping[str, Any],
    runs_dir: Path,
    recs: Mapping[str, Mapping[str, Any]],
    shows: Mapping[str, tuple[str, ...]],
) -> Invocation:
    steps = []
    for step, d in (data.get("steps") or {}).items():
        if not isinstance(d, dict):
            continue
        rid = d.get("run_id")
        rec = recs.get(rid) if isinstance(rid, str) else None
        if rec is None and isinstance(rid, str):
            rec = read_record(runs_dir / rid)
        rec = rec or {}
        action = str(d.get("action") or "")
        if not action:  # the invocation now running: did this step run in it?
            ran = (rec.get("pipeline") or {}).get("run_id") == data.get("id")
            action = "ran" if ran else "up to date"
        steps.append(
            StepView(
                name=str(step),
                status=d.get("status"),
                action=action,
                run_id=rid if isinstance(rid, str) else None,
                upstream=tuple(str(u) for u in (d.get("upstream") or {})),
                detail=str(d.get("detail") or ""),
                scraps=dict(rec.get("scraps") or {}),
                params={k: v for k, v in (rec.get("params") or {}).items() if k != "output_dir"},
                show=tuple(shows.get(str(step), ())),
                sweep=bool(rec.get("sweep_id")),
            )
        )
    return Invocation(
        name,
        str(data.get("id") or ""),
        data.get("finished_at") if isinstance(data.get("finished_at"), str) else None,
        data.get("ok") if isinstance(data.get("ok"), bool) else None,
        tuple(steps),
    )
