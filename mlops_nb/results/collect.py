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

from mlops_nb.errors import UsageError
from mlops_nb.store import query
from mlops_nb.store import runs as store

if TYPE_CHECKING:
    import pandas as pd

PARAM, SCRAP = "params.", "scraps."
BASE = ("id", "name", "notebook", "status", "started", "duration", "sweep")
STATUSES = ("running", "ok", "failed", "timeout", "interrupted")
_PREFIXED = re.compile(r"(?<![\w`.])((?:params|scraps)\.[A-Za-z_]\w*)")
_QUOTED = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`)""")


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
    cols = query.columns(
        store.resolve_runs_dir(runs_dir),
        INDEX_COLUMNS,
        *_sql_filters(notebook, sweep, status, pipeline),
    )
    df = frame_of_columns(cols)
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


INDEX_COLUMNS = (
    "id",
    "name",
    "notebook",
    "status",
    "started_at",
    "duration_s",
    "sweep_id",
    "params",
    "scraps",
    "error",
)


def frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The collect DataFrame of index rows (dicts with at least ``INDEX_COLUMNS``)."""
    return frame_of_columns({c: [r[c] for r in rows] for c in INDEX_COLUMNS})


def frame_of_columns(cols: dict[str, list[Any]]) -> pd.DataFrame:
    """The collect DataFrame of index columns (``query.columns`` of ``INDEX_COLUMNS``)."""
    import pandas as pd

    data: dict[str, Any] = {}
    for name, values, kind in typed_columns(cols):
        if kind == "datetime":
            series = pd.Series(values, dtype=object)
            data[name] = pd.to_datetime(series, utc=True, format="ISO8601").array
        else:
            data[name] = _array(values, kind)
    return pd.DataFrame(data, index=pd.RangeIndex(len(cols["id"])))


def typed_columns(cols: dict[str, list[Any]]) -> list[tuple[str, list[Any], str]]:
    """``(column, values, kind)`` of the collect table, in order (kinds: ``column_kind``'s, and
    ``datetime`` for ``started``)."""
    out: list[tuple[str, list[Any], str]] = [
        ("id", cols["id"], "string"),
        ("name", cols["name"], "string"),
        ("notebook", cols["notebook"], "string"),
        ("status", cols["status"], "string"),
        ("started", cols["started_at"], "datetime"),
        ("duration", cols["duration_s"], "Float64"),
        ("sweep", cols["sweep_id"], "string"),
    ]
    for prefix, texts in ((PARAM, cols["params"]), (SCRAP, cols["scraps"])):
        pivoted = _pivot(texts)
        for k in sorted(pivoted):
            if k == "output_dir" and prefix == PARAM:
                continue  # the run's own folder: different in every run, says nothing
            out.append((prefix + k, pivoted[k], column_kind(pivoted[k])))
    out.append(("error", cols["error"], "string"))
    return out


def _pivot(texts: list[str | None]) -> dict[str, list[Any]]:
    """JSON objects (one per run) → ``{key: [value or None per run]}``. One ``json.loads`` of
    them all, and when every run has the same keys in the same order (a sweep's runs), one
    ``zip``: at 100,000 runs a loop over every value costs most of a second."""
    n = len(texts)
    try:
        dicts = json.loads("[" + ",".join(t or "{}" for t in texts) + "]")
    except ValueError:  # not from this index's writer; read them one by one
        dicts = [json.loads(t) if t else {} for t in texts]
    dicts = [d if isinstance(d, dict) else {} for d in dicts]
    signatures = set(map(tuple, dicts))
    if len(signatures) == 1:
        keys = next(iter(signatures))
        if not keys:
            return {}
        return dict(zip(keys, map(list, zip(*map(dict.values, dicts), strict=True)), strict=True))
    out: dict[str, list[Any]] = {}
    for i, d in enumerate(dicts):
        for k, v in d.items():
            col = out.get(k)
            if col is None:
                col = out[k] = [None] * n
            col[i] = v
    return out


_INT64 = (-(2**63), 2**63 - 1)


def column_kind(values: list[Any]) -> str:
    """The dtype of a column of JSON values: ``boolean``, ``Int64``, ``Float64``, ``string``
    (all strings), or ``json`` (mixed or nested: each value that is not a string as JSON text)."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds == {bool}:
        return "boolean"
    if kinds == {int} and all(_INT64[0] <= v <= _INT64[1] for v in values if v is not None):
        return "Int64"
    if kinds and kinds <= {int, float}:
        try:
            [float(v) for v in values if v is not None]
        except OverflowError:
            return "json"
        return "Float64"
    return "string" if kinds <= {str} else "json"


def typed_array(values: list[Any]) -> Any:
    """A nullable pandas array for JSON values: Int64, Float64, boolean or string."""
    return _array(values, column_kind(values))


def _array(values: list[Any], kind: str) -> Any:
    import pandas as pd

    if kind == "Float64":
        return pd.array(
            [None if v is None or v != v else float(v) for v in values], dtype="Float64"
        )
    if kind in ("boolean", "Int64", "string"):
        return pd.array(values, dtype=kind)
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


def _quote_prefixed(expr: str) -> str:
    """``scraps.f1`` → `` `scraps.f1` `` outside string literals, so pandas can read it."""
    parts = _QUOTED.split(expr)
    return "".join(p if i % 2 else _PREFIXED.sub(r"`\1`", p) for i, p in enumerate(parts))


def _where_mask(df: pd.DataFrame, expr: str) -> Any:
    import pandas as pd

    resolvers = {alias: df[col] for alias, col in aliases(df.columns).items()}
    try:
        result = df.eval(_quote_prefixed(expr), engine="python", resolvers=[resolvers])
    except Exception as e:  # pandas raises many kinds: all mean a bad expression here
        hint = ""
        name = getattr(e, "name", None) or _undefined_name(str(e))
        if name:
            try:
                resolve_column(df, name)
            except UsageError as ue:
                hint = f" {ue.message}"
        raise UsageError(f"--where {expr!r}: {type(e).__name__}: {e}.{hint}") from None
    if not isinstance(result, pd.Series) or not (
        pd.api.types.is_bool_dtype(result.dtype) or len(result) == 0
    ):
        raise UsageError(f'--where {expr!r} is not a condition (e.g. "f1 > 0.8").')
    return result.fillna(False).astype(bool).to_numpy()


def _undefined_name(message: str) -> str | None:
    m = re.search(r"name '([^']+)' is not defined", message)
    return m.group(1) if m else None


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


def export(df: pd.DataFrame, fmt: str, path: str | None = None) -> str | None:
    """Write ``df`` as csv/json/parquet to ``path``, or return the text when ``path`` is None."""
    if fmt == "csv":
        text: str = df.to_csv(index=False)
    elif fmt == "json":
        text = df.to_json(orient="records", date_format="iso", indent=1) or "[]"
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
