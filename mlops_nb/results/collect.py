"""``collect``: one row per run, read from the runs index only (never from the run folders).

Columns: ``id``, ``name``, ``notebook``, ``status``, ``started``, ``duration``, ``sweep``, then one
``params.<name>`` column per parameter and one ``scraps.<name>`` column per scalar scrap (the
MLflow convention), then ``error`` (the failed run's one-line error). Dtypes are pandas' nullable
ones, missing values are ``pd.NA``: ``Int64``, ``Float64``, ``boolean``, ``string``; ``started`` is
a UTC datetime. A column whose values mix types (or holds lists/dicts) becomes strings (JSON).

In ``where``, ``sort`` and ``columns`` a column is named in full (``scraps.f1``, ``params.C``), by
its bare name when that is unambiguous (``f1``, ``C``), or with ``_`` for the dot (``scraps_f1``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_nb import strict_json
from mlops_nb.errors import UsageError
from mlops_nb.store import index
from mlops_nb.store import runs as store

if TYPE_CHECKING:
    import pandas as pd

PARAM, SCRAP = "params.", "scraps."
BASE = ("id", "name", "notebook", "status", "started", "duration", "sweep")
STATUSES = ("running", "ok", "failed", "timeout", "interrupted", "lost")


def collect(
    runs_dir: str | os.PathLike[str] | None = None,
    *,
    notebook: str | None = None,
    sweep: str | None = None,
    pipeline: str | None = None,
    status: str | Sequence[str] | None = None,
    where: str | None = None,
    sort: str | None = None,
    desc: bool = False,
    limit: int | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per run (in time order) with its parameters and scalar scraps as columns.

    ``notebook`` matches the recorded path, its absolute path or its file name; ``sweep`` a sweep
    id or a prefix of one; ``pipeline`` the runs of that pipeline (its ``name:``); ``status`` one status or several (list or ``"ok,failed"``); ``where``
    is a pandas query (``"f1 > 0.8 and model == 'rf'"``); ``sort`` a column (``desc`` reverses);
    ``limit`` keeps the first rows after sorting; ``columns`` selects and orders columns.
    """
    rows = index.query_rows(
        store.resolve_runs_dir(runs_dir), *_sql_filters(notebook, sweep, status, pipeline)
    )
    df = frame(rows)
    if where:
        df = df[_where_mask(df, where)]
    if sort:
        col = resolve_column(df, sort)
        df = df.sort_values(col, ascending=not desc, na_position="last", kind="stable")
    elif desc:
        df = df.iloc[::-1]
    if limit is not None:
        df = df.head(limit)
    if columns:
        df = df[[resolve_column(df, c) for c in _split(columns)]]
    return df.reset_index(drop=True)


def _split(values: str | Iterable[str]) -> list[str]:
    items = [values] if isinstance(values, str) else list(values)
    return [p.strip() for v in items for p in v.split(",") if p.strip()]


def _sql_filters(
    notebook: str | None,
    sweep: str | None,
    status: str | Sequence[str] | None,
    pipeline: str | None = None,
) -> tuple[str, list[Any]]:
    conds: list[str] = []
    args: list[Any] = []
    if notebook:
        conds.append(
            "(notebook = ? OR notebook_abspath = ? OR notebook_name = ? OR notebook_name = ?)"
        )
        args += [notebook, str(Path(notebook).resolve()), notebook, f"{notebook}.ipynb"]
    if sweep:
        conds.append("(sweep_id = ? OR substr(sweep_id, 1, ?) = ?)")
        args += [sweep, len(sweep), sweep]
    if pipeline:
        conds.append("json_extract(pipeline, '$.name') = ?")
        args.append(pipeline)
    if status:
        wanted = _split(status)
        unknown = [s for s in wanted if s not in STATUSES]
        if unknown:
            raise UsageError(
                f"unknown status {', '.join(unknown)!s}; choose from {', '.join(STATUSES)}."
            )
        conds.append(f"status IN ({', '.join('?' * len(wanted))})")
        args += wanted
    return " AND ".join(conds), args


def frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The collect DataFrame of index rows."""
    import pandas as pd

    n = len(rows)
    params: dict[str, list[Any]] = {}
    scraps: dict[str, list[Any]] = {}
    for i, row in enumerate(rows):
        for target, text in ((params, row["params"]), (scraps, row["scraps"])):
            for k, v in (strict_json.loads(text) if text else {}).items():
                col = target.get(k)
                if col is None:
                    col = target[k] = [None] * n
                col[i] = v
    data: dict[str, Any] = {
        "id": pd.array([r["id"] for r in rows], dtype="string"),
        "name": pd.array([r["name"] for r in rows], dtype="string"),
        "notebook": pd.array([r["notebook"] for r in rows], dtype="string"),
        "status": pd.array([r["status"] for r in rows], dtype="string"),
        "started": pd.to_datetime(
            pd.Series([r["started_at"] for r in rows], dtype=object), utc=True, format="ISO8601"
        ).array,
        "duration": pd.array([r["duration_s"] for r in rows], dtype="Float64"),
        "sweep": pd.array([r["sweep_id"] for r in rows], dtype="string"),
    }
    for prefix, cols in ((PARAM, params), (SCRAP, scraps)):
        for k in sorted(cols):
            if k == "output_dir" and prefix == PARAM:
                continue  # the run's own folder: different in every run, says nothing
            data[prefix + k] = typed_array(cols[k])
    data["error"] = pd.array([r["error"] for r in rows], dtype="string")
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def typed_array(values: list[Any]) -> Any:
    """A nullable pandas array for JSON values: Int64, Float64, boolean or string."""
    import pandas as pd

    kinds = {type(v) for v in values if v is not None}
    try:
        if kinds == {bool}:
            return pd.array(values, dtype="boolean")
        if kinds == {int}:
            return pd.array(values, dtype="Int64")
        if kinds and kinds <= {int, float}:
            return pd.array(
                [None if v is None or v != v else float(v) for v in values], dtype="Float64"
            )
    except (OverflowError, TypeError, ValueError):
        pass
    if kinds <= {str}:
        return pd.array(values, dtype="string")
    return pd.array(
        [v if v is None or isinstance(v, str) else json.dumps(v) for v in values], dtype="string"
    )


def aliases(columns: Iterable[str]) -> dict[str, str]:
    """Other names a column answers to: ``f1`` and ``scraps_f1`` for ``scraps.f1``."""
    cols = list(columns)
    taken = set(cols)
    bare: dict[str, list[str]] = {}
    out: dict[str, str] = {}
    for c in cols:
        for prefix in (PARAM, SCRAP):
            if c.startswith(prefix):
                bare.setdefault(c[len(prefix) :], []).append(c)
                out[re.sub(r"\W", "_", c)] = c
    for name, full in bare.items():
        if len(full) == 1 and name not in taken:
            out[name] = full[0]
    return {k: v for k, v in out.items() if k not in taken}


def resolve_column(df: pd.DataFrame, name: str) -> str:
    """The column a user-given name refers to (full, bare or underscored), or a UsageError."""
    if name in df.columns:
        return name
    found = aliases(df.columns).get(name)
    if found:
        return found
    clash = [c for c in df.columns if c in (PARAM + name, SCRAP + name)]
    if clash:
        raise UsageError(f"column {name!r} is ambiguous: say {' or '.join(clash)}.")
    raise UsageError(f"no column {name!r}. Columns: {', '.join(map(str, df.columns))}.")


def _where_mask(df: pd.DataFrame, expr: str) -> Any:
    """Rows where the filter holds: ``mlops_nb.results.where`` (a whitelisted grammar, never
    ``eval``)."""
    from mlops_nb.results.where import mask

    return mask(df, expr, lambda name: resolve_column(df, name))


FORMATS = ("table", "csv", "json", "parquet")


def _cell(value: Any) -> str:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, pd.Timestamp):
        return str(value.strftime("%Y-%m-%d %H:%M:%S"))
    text = str(value).replace("\n", " ")
    return text if len(text) <= 40 else text[:39] + "…"


def table_text(df: pd.DataFrame, *, width: int) -> str:
    """An aligned text table that fits ``width``: empty columns dropped, then columns clipped
    from the right (a last line says how many and how to see them)."""
    from mlops_nb import output

    if df.empty:
        return "no runs match." if len(df.columns) else "no runs."
    cols = [c for c in df.columns if not df[c].isna().all()]
    cells = {c: [_cell(v) for v in df[c].tolist()] for c in cols}
    shown: list[str] = []
    used = 0
    for c in cols:
        w = max(len(str(c)), *(len(s) for s in cells[c])) + 2
        if shown and used + w > width:
            break
        shown.append(c)
        used += w
    rows = [[cells[c][i] for c in shown] for i in range(len(df))]
    text = output.table(rows, [str(c) for c in shown])
    hidden = len(cols) - len(shown)
    if hidden:
        text += (
            f"\n({hidden} more column{'s' if hidden > 1 else ''}: "
            f"{', '.join(map(str, cols[len(shown) :]))}; use --columns or --format csv)"
        )
    return text


def json_records(df: pd.DataFrame) -> str:
    """``df`` as a JSON list of row objects under ``mlops_nb.strict_json``'s rule: a missing value
    (pandas' NA, which a NaN in a column is too) is ``null``; infinities are written
    ``{"$numberDouble": "Infinity"}`` (pandas' ``to_json`` would write ``null``)."""
    import pandas as pd

    def iso(value: Any) -> str:  # as pandas' to_json(date_format="iso"): UTC, milliseconds
        if isinstance(value, pd.Timestamp):
            utc = value.tz_convert("UTC") if value.tzinfo else value
            return str(utc.strftime("%Y-%m-%dT%H:%M:%S.%f"))[:-3] + "Z"
        return str(value)

    rows = df.astype(object).where(df.notna(), None).to_dict(orient="records")
    text: str = strict_json.dumps(rows, indent=1, ensure_ascii=False, default=iso)
    return text


def export(df: pd.DataFrame, fmt: str, path: str | None = None) -> str | None:
    """Write ``df`` as csv/json/parquet to ``path``, or return the text when ``path`` is None."""
    if fmt == "csv":
        text: str = df.to_csv(index=False)
    elif fmt == "json":
        text = json_records(df)
    elif fmt == "parquet":
        if path is None:
            raise UsageError("--format parquet writes a binary file: give -o FILE.parquet.")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            from mlops_nb.errors import missing_extra

            raise missing_extra("pyarrow", "ml", "--format parquet") from None
        from mlops_nb.notebook.io import writing

        with writing(path):
            df.to_parquet(path, index=False)
        return None
    else:
        raise UsageError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}.")
    if path is None:
        return text
    from mlops_nb.notebook.io import atomic_write_text, writing

    with writing(path):
        atomic_write_text(path, text)
    return None
