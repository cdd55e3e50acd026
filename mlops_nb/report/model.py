"""What the report shows, gathered from the runs store: sections (one per pipeline step, sweep or
notebook), pipeline invocations (for the headline) and the images each run saved.

Pure reading: run folders (``run.json``, ``output.ipynb``, image artifacts) and the pipeline
records under ``<runs dir>/pipelines/<name>/`` (written by ``mlops_nb.pipeline``). No HTML here.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb.report.views import Image, Invocation, Section, StepView

if TYPE_CHECKING:
    import pandas as pd

MAX_IMAGES_PER_RUN = 8
MAX_IMAGE_BYTES = 2 * 2**20  # a bigger picture is linked, not embedded
IMAGE_RUNS_PER_SECTION = 3  # images of the best few runs of a section (and of pipeline steps)
MAX_INVOCATIONS = 3  # headlines: the newest pipeline invocations
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def read_record(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def records(runs_dir: Path, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The run records of ``ids`` (an unreadable one is an empty dict)."""
    return {i: read_record(runs_dir / i) for i in ids}


def step_of(rec: Mapping[str, Any]) -> tuple[str, str] | None:
    """(pipeline, step) of a pipeline step's run, else None."""
    pipe = rec.get("pipeline")
    if isinstance(pipe, dict) and pipe.get("name") and pipe.get("step"):
        return str(pipe["name"]), str(pipe["step"])
    return None


def _group_of(rec: Mapping[str, Any], notebook: str, sweep: Any) -> tuple[str, str]:
    step = step_of(rec)
    if step:
        return f"step-{step[0]}-{step[1]}", f"{step[0]} · step {step[1]}"
    if isinstance(sweep, str):
        return f"sweep-{sweep}", f"sweep {sweep}"
    return f"notebook-{notebook}", f"notebook {Path(notebook).name}"


def sections(
    df: pd.DataFrame,
    recs: Mapping[str, Mapping[str, Any]],
    *,
    sort: str | None,
    ascending: bool,
    selects: Mapping[str, str],
) -> list[Section]:
    """``df`` split into sections (in order of each section's first run); each sorted best first.

    ``sort`` applies where the section has that column; otherwise a pipeline step's selection
    metric (``selects``: section key → scrap), otherwise the first float scrap.
    """
    import pandas as pd

    keys: list[str] = []
    titles: dict[str, str] = {}
    notebooks: dict[str, str] = {}
    steps: dict[str, tuple[str, str] | None] = {}
    for rid, nb, sweep in zip(df["id"], df["notebook"], df["sweep"], strict=True):
        rec = recs.get(str(rid), {})
        key, title = _group_of(rec, str(nb), None if sweep is pd.NA else sweep)
        steps.setdefault(key, step_of(rec))
        keys.append(key)
        titles.setdefault(key, title)
        notebooks.setdefault(key, str(nb))
    label = pd.Series(keys, index=df.index)
    out = []
    for key in dict.fromkeys(keys):
        sub = _nonempty(df[label == key])
        select = selects.get(key)
        column = _sort_column(sub, sort, select)
        if column:
            sub = sub.sort_values(column, ascending=ascending, na_position="last", kind="stable")
        out.append(
            Section(
                _slug(key),
                titles[key],
                notebooks[key],
                sub.reset_index(drop=True),
                column,
                select,
                steps[key],
            )
        )
    return out


def _nonempty(df: pd.DataFrame) -> pd.DataFrame:
    """Only the columns that hold something in these runs (a None parameter counts)."""
    from mlops_nb.results.collect import explicit_nulls

    nulls = explicit_nulls(df)
    keep = [
        c
        for c in df.columns
        if not str(c).startswith(("params.", "scraps."))
        or df[c].notna().any()
        or bool(nulls.get(str(c), frozenset()) & set(df["id"]))
    ]
    return df[keep]


def _sort_column(df: pd.DataFrame, sort: str | None, select: str | None) -> str | None:
    import pandas as pd

    from mlops_nb.errors import UsageError
    from mlops_nb.results.collect import resolve_column

    for wanted in (sort, select):
        if wanted:
            try:
                return resolve_column(df, wanted)
            except UsageError:
                continue
    floats = [
        str(c)
        for c in df.columns
        if str(c).startswith("scraps.") and pd.api.types.is_float_dtype(df[c].dtype)
    ]
    # a metric that tells the runs apart, not a baseline or a constant
    telling = [
        c for c in floats if not c.startswith("scraps.baseline") and df[c].nunique(dropna=True) > 1
    ]
    return next(iter(telling or floats), None)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "section"


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _output_images(nb: Mapping[str, Any]) -> list[Image]:
    out: list[Image] = []
    number = 0  # cells counted from 1 in the user's notebook (the injected cell is not theirs)
    for cell in nb.get("cells", []) if isinstance(nb.get("cells"), list) else []:
        if not isinstance(cell, dict):
            continue
        tags = (cell.get("metadata") or {}).get("tags") or []
        if "injected-parameters" in tags:
            continue
        number += 1
        if cell.get("cell_type") != "code":
            continue
        for o in cell.get("outputs") or []:
            data = o.get("data") if isinstance(o, dict) else None
            if not isinstance(data, dict):
                continue
            for mime in ("image/png", "image/jpeg", "image/svg+xml"):
                value = data.get(mime)
                if isinstance(value, list):
                    value = "".join(str(v) for v in value)
                if not isinstance(value, str):
                    continue
                if mime == "image/svg+xml":
                    uri = _data_uri(mime, value.encode("utf-8"))
                else:
                    b64 = re.sub(r"\s+", "", value)
                    if not _BASE64.match(b64):
                        continue  # not an image: never put arbitrary text into src
                    uri = f"data:{mime};base64,{b64}"
                if len(uri) <= MAX_IMAGE_BYTES * 4 // 3 + 64:
                    out.append(Image(f"cell {number}", uri))
                break  # one picture per output (png preferred)
    return out


def run_images(folder: Path, record: Mapping[str, Any]) -> list[Image]:
    """Images the run saved: image artifacts (in its folder), then figures in its output
    notebook (cells numbered from 1, as in every message), at most ``MAX_IMAGES_PER_RUN``."""
    images: list[Image] = []
    root = folder.resolve()
    for rel in sorted(record.get("artifacts") or {}):
        mime = _IMAGE_TYPES.get(Path(str(rel)).suffix.lower())
        path = (folder / str(rel)).resolve()
        if mime is None or not path.is_relative_to(root):
            continue
        try:
            if path.stat().st_size <= MAX_IMAGE_BYTES:
                images.append(Image(str(rel), _data_uri(mime, path.read_bytes())))
        except OSError:
            continue
    try:
        nb = json.loads((folder / "output.ipynb").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        nb = {}
    if isinstance(nb, dict):
        images += _output_images(nb)
    return images[:MAX_IMAGES_PER_RUN]


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
