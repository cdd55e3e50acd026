"""``collect``: one row per run, read from the runs index only (never from the run folders).

Columns: ``id``, ``name``, ``notebook``, ``status``, ``started``, ``duration``, ``sweep``, then one
``params.<name>`` column per parameter and one ``scraps.<name>`` column per scalar scrap (the
MLflow convention), then ``error`` (the failed run's one-line error). Dtypes are pandas' nullable
ones, missing values are ``pd.NA``: ``Int64``, ``Float64``, ``boolean``, ``string``; ``started`` is
a UTC datetime. A column whose values mix types (or holds lists/dicts) becomes strings (JSON).
A column of numbers with a whole number past the Int64 range is ``object`` and holds Python ints
and floats, as pandas makes of such ints (``pd.Series([3, 10**25])``): every value exact, sorted
and compared as numbers (``results.where.number_column``); each run's other values keep their type.

A parameter or scrap set to ``None`` and one the run does not have are both ``pd.NA`` in the frame;
``explicit_nulls(df)`` tells them apart (kept in ``df.attrs``, by run id, through filters and
sorts), and the table, csv and json formats show them differently (``None``/``null`` vs empty or
absent). A NaN in a float column is ``pd.NA`` too; ``nan_mask(df, column)`` marks it the same way,
and the formats write it as ``nan`` (json: ``{"$numberDouble": "NaN"}``, ``mlops_nb.strict_json``).

In ``where``, ``sort`` and ``columns`` a column is named in full (``scraps.f1``, ``params.C``), by
its bare name when that is unambiguous (``f1``, ``C``), or with ``_`` for the dot (``scraps_f1``),
and in backticks as ``where`` reads them (`` `params.C` ``, `` `scraps.my metric` ``).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Unpack, cast

from mlops_nb import strict_json
from mlops_nb.errors import UsageError
from mlops_nb.results.filter import FilterKeywords, RunFilter, split
from mlops_nb.results.steps import check_step
from mlops_nb.store import query
from mlops_nb.store import runs as store
from mlops_nb.store.names import check_selection

if TYPE_CHECKING:
    import pandas as pd

PARAM, SCRAP = "params.", "scraps."
NULLS = "mlops_nb.explicit_nulls"  # df.attrs key: {column: [ids of runs whose value is None]}
NULL_ROWS = "mlops_nb.explicit_null_rows"  # the same by row position, once ``id`` is not selected
NANS = "mlops_nb.nan_values"  # df.attrs key: {column: [ids of runs whose value is NaN]}
NAN_ROWS = "mlops_nb.nan_value_rows"  # the same by row position
BASE = ("id", "name", "notebook", "status", "started", "duration", "sweep")
_BACKTICKED = re.compile(r"^`([^`]*)`$")  # a whole name in backticks (results.where._BACKTICK)


def collect(
    runs_dir: str | os.PathLike[str] | None = None,
    *,
    filter: RunFilter | None = None,
    sort: str | None = None,
    desc: bool = False,
    limit: int | None = None,
    columns: Sequence[str] | None = None,
    **keywords: Unpack[FilterKeywords],
) -> pd.DataFrame:
    """One row per run (in time order) with its parameters and scalar scraps as columns.

    ``filter`` (a ``RunFilter``) or its keywords choose the runs: ``notebook`` matches the
    recorded path, its absolute path or its file name; ``sweep`` a sweep id or a prefix of one;
    ``pipeline`` the runs of that pipeline (its ``name:``); ``step`` those of a pipeline step
    of that name; ``status`` one status or several (list
    or ``"ok,failed"``); ``where`` a filter expression (``"f1 > 0.8 and model == 'rf'"``,
    ``mlops_nb.results.where``). ``sort`` a column (``desc`` reverses); ``limit`` keeps the first
    rows after sorting; ``columns`` selects and orders columns. Raises ``UsageError`` (a bad
    filter, column or status; a sweep, pipeline, step or notebook the store does not have; a sweep
    prefix of several sweeps), ``StoreError`` (no runs folder) and ``TypeError`` (``filter=``
    and filter keywords together). When no run matches, the frame is empty and ``where``,
    ``sort`` and ``columns`` name no column of a run (only the filter's syntax is checked).
    """
    f = RunFilter.of(filter, **keywords)
    rd = store.resolve_runs_dir(runs_dir)
    with no_cycle_collection():
        cols = query.columns(rd, INDEX_COLUMNS, *f.sql())
        df = frame_of_columns(cols)
    check_selection(rd, f, len(df))
    check_step(rd, f.step, f.pipeline, len(df))
    if not len(df):
        return _no_runs(df, f.where, columns)
    if f.where:
        df = df[_where_mask(df, f.where)]
    if sort:
        col = resolve_column(df, sort)
        df = df.sort_values(col, ascending=not desc, na_position="last", kind="stable")
    elif desc:
        df = df.iloc[::-1]
    if limit is not None:
        df = df.head(limit)
    if columns:
        ids = df["id"].tolist()
        df = df[[resolve_column(df, c) for c in split(columns)]]
        if "id" not in df.columns:  # keep the None/NaN-vs-absent marks by row position
            for by_id, by_row in ((NULLS, NULL_ROWS), (NANS, NAN_ROWS)):
                df.attrs[by_row] = {
                    c: [i for i, rid in enumerate(ids) if rid in set(v)]
                    for c, v in df.attrs.get(by_id, {}).items()
                }
    return df.reset_index(drop=True)


def _no_runs(df: pd.DataFrame, where: str | None, columns: Sequence[str] | None) -> pd.DataFrame:
    """The frame of no runs: a ``where`` is still parsed (a typo is one), the columns asked for
    are the frame's (a name no run has is no mistake when there is no run to have it)."""
    if where:
        from mlops_nb.results.where import parse

        parse(where)
    if not columns:
        return df
    found = aliases(df.columns)
    names = [unquoted(c) for c in split(columns)]
    names = [c if c in df.columns else found.get(c, c) for c in names]
    return df.reindex(columns=list(dict.fromkeys(names)))


@contextlib.contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a listing is built: the rows, the decoded
    JSON and the columns are 100,000s of new containers without cycles, and the collections
    they trigger took 40 % of ``collect()`` at 100,000 runs (``benchmarks/collect.py``). Reference
    counting still frees everything; the collector runs again when the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The index columns (a selection of ``store.index.COLUMNS``, the one list) a collect row starts from.
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
    nulls: dict[str, list[int]] = {}
    nans: dict[str, list[int]] = {}
    for name, values, kind in typed_columns(cols, nulls, nans):
        if kind == "datetime":
            series = pd.Series(values, dtype=object)
            data[name] = pd.to_datetime(series, utc=True, format="ISO8601").array
        else:
            data[name] = _array(values, kind)
    df = pd.DataFrame(data, index=pd.RangeIndex(len(cols["id"])))
    ids = cols["id"]
    for key, marks in ((NULLS, nulls), (NANS, nans)):
        df.attrs[key] = {c: [ids[i] for i in rows] for c, rows in marks.items() if c in df.columns}
    return df


def explicit_nulls(df: pd.DataFrame) -> dict[str, frozenset[str]]:
    """``{column: ids of the runs whose value there is None}`` (as opposed to absent)."""
    return {c: frozenset(ids) for c, ids in df.attrs.get(NULLS, {}).items() if c in df.columns}


def null_mask(df: pd.DataFrame, column: str) -> list[bool]:
    """Per row of ``df``: was ``column`` set to None there (not absent)?"""
    return _marked(df, column, NULLS, NULL_ROWS)


def nan_mask(df: pd.DataFrame, column: str) -> list[bool]:
    """Per row of ``df``: is ``column`` NaN there (a float column holds it as ``pd.NA``, like an
    absent value; ``--where`` treats both as missing)?"""
    return _marked(df, column, NANS, NAN_ROWS)


def _marked(df: pd.DataFrame, column: str, by_id: str, by_row: str) -> list[bool]:
    if "id" not in df.columns:
        rows = set(df.attrs.get(by_row, {}).get(column, ()))
        return [i in rows for i in range(len(df))]
    ids = set(df.attrs.get(by_id, {}).get(column, ()))
    return [rid in ids for rid in df["id"].tolist()]


def typed_columns(
    cols: dict[str, list[Any]],
    nulls: dict[str, list[int]] | None = None,
    nans: dict[str, list[int]] | None = None,
) -> list[tuple[str, list[Any], str]]:
    """``(column, values, kind)`` of the collect table, in order (kinds: ``column_kind``'s, and
    ``datetime`` for ``started``). ``nulls``, when given, receives ``{column: row positions}`` of
    the parameters and scraps set to None (as opposed to absent: both are None in ``values``);
    ``nans`` those of the NaN values of ``Float64`` columns (which hold them as ``pd.NA``)."""
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
        pivoted, explicit = _pivot(texts)
        if nulls is not None:
            nulls.update({prefix + k: rows for k, rows in explicit.items()})
        maybe_nan = "NaN" in ",".join(filter(None, texts))  # strict_json's or a bare NaN token
        for k in sorted(pivoted):
            if k == "output_dir" and prefix == PARAM:
                continue  # the run's own folder: different in every run, says nothing
            kind = column_kind(pivoted[k])
            out.append((prefix + k, pivoted[k], kind))
            if nans is not None and maybe_nan and kind in ("Float64", NUMBER):
                rows = [i for i, v in enumerate(pivoted[k]) if v is not None and v != v]
                if rows:
                    nans[prefix + k] = rows
    out.append(("error", cols["error"], "string"))
    return out


def _pivot(texts: list[str | None]) -> tuple[dict[str, list[Any]], dict[str, list[int]]]:
    """JSON objects (one per run) → ``({key: [value or None per run]}, {key: [positions of the
    runs where the value is None]})``: a run without the key also gets None in the first, so the
    second tells "set to None" from "absent". One ``json.loads`` of them all, and when every run
    has the same keys in the same order (a sweep's runs), one ``zip``: at 100,000 runs a loop
    over every value costs most of a second. Non-finite numbers follow ``strict_json``."""
    n = len(texts)
    # the index writes "{}" for none: the generator is for rows from elsewhere
    whole = cast("list[str]", texts) if None not in texts else [t or "{}" for t in texts]
    joined = "[" + ",".join(whole) + "]"
    try:
        dicts = json.loads(joined)
    except ValueError:  # not from this index's writer; read them one by one
        dicts = [json.loads(t) if t else {} for t in texts]
    if strict_json.KEY in joined:  # a non-finite number somewhere: decode (rare, slower)
        dicts = strict_json.decode(dicts)
    if set(map(type, dicts)) != {dict}:
        dicts = [d if isinstance(d, dict) else {} for d in dicts]
    signatures = set(map(tuple, dicts))
    if len(signatures) == 1:
        keys = next(iter(signatures))
        if not keys:
            return {}, {}
        columns = map(list, zip(*map(dict.values, dicts), strict=True))
        out = dict(zip(keys, columns, strict=True))
        return out, _none_positions(out)
    out = {}
    explicit: dict[str, list[int]] = {}
    for i, d in enumerate(dicts):
        for k, v in d.items():
            col = out.get(k)
            if col is None:
                col = out[k] = [None] * n
            col[i] = v
            if v is None:
                explicit.setdefault(k, []).append(i)
    return out, explicit


def _none_positions(columns: dict[str, list[Any]]) -> dict[str, list[int]]:
    """Where every run has every key, each None was set explicitly."""
    out = {}
    for k, values in columns.items():
        if None in values:
            out[k] = [i for i, v in enumerate(values) if v is None]
    return out


_INT64 = (-(2**63), 2**63 - 1)
NUMBER = "number"  # the kind of a column of numbers with an int past Int64: object, exact


def column_kind(values: list[Any]) -> str:
    """The dtype of a column of JSON values: ``boolean``, ``Int64``, ``Float64``, ``number``
    (numbers with a whole number past Int64: an ``object`` column of Python ints and floats),
    ``string`` (all strings), or ``json`` (mixed or nested: each value that is not a string as
    JSON text)."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds == {bool}:
        return "boolean"
    present = values if None not in values else [v for v in values if v is not None]
    if kinds == {int} and _INT64[0] <= min(present) and max(present) <= _INT64[1]:
        return "Int64"
    if kinds and kinds <= {int, float}:
        lo, hi = _INT64
        if int in kinds and any(type(v) is int and not lo <= v <= hi for v in present):
            return NUMBER  # a whole number past Int64 keeps its digits, never a rounded float
        return "Float64"
    return "string" if kinds <= {str} else "json"


def typed_array(values: list[Any]) -> Any:
    """A nullable pandas array for JSON values: Int64, Float64, boolean or string."""
    return _array(values, column_kind(values))


def plain_values(values: list[Any], kind: str) -> list[Any]:
    """A column's JSON values as the frame holds them, in plain Python (None: missing; the
    report's rows, ``report.rows``, use them without pandas): a NaN of a float or exact-number
    column is missing, a ``json`` column's values that are not strings are JSON texts."""
    if kind == "Float64":
        return [None if v is None or v != v else float(v) for v in values]
    if kind == NUMBER:
        return [None if v is None or v != v else v for v in values]
    if kind == "json":
        return [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
    return values


def _array(values: list[Any], kind: str) -> Any:
    import pandas as pd

    plain = plain_values(values, kind)
    if kind == NUMBER:
        return pd.array([pd.NA if v is None else v for v in plain], dtype=object)
    return pd.array(plain, dtype="string" if kind == "json" else kind)


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
    return resolve_name([str(c) for c in df.columns], name)


def unquoted(name: str) -> str:
    """``name`` without the backticks that may enclose it (`` `params.C` ``), as ``where`` reads
    a column in backticks (``results.where``), so one spelling works in every option."""
    m = _BACKTICKED.match(name)
    return m[1] if m else name


def resolve_name(columns: Sequence[str], name: str) -> str:
    """``resolve_column`` over column names (e.g. ``report.outline.columns``); the name may be
    in backticks."""
    name = unquoted(name)
    if name in columns:
        return name
    found = aliases(columns).get(name)
    if found:
        return found
    clash = [c for c in columns if c in (PARAM + name, SCRAP + name)]
    if clash:
        raise UsageError(f"column {name!r} is ambiguous: say {' or '.join(clash)}.")
    raise UsageError(f"no column {name!r}. Columns: {', '.join(columns)}.")


def _where_mask(df: pd.DataFrame, expr: str) -> Any:
    """Rows where the filter holds: ``mlops_nb.results.where`` (a whitelisted grammar, never
    ``eval``)."""
    from mlops_nb.results.where import mask

    return mask(df, expr, lambda name: resolve_column(df, name))
