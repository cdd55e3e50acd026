"""The ``collect`` table as text: an aligned table for the terminal, csv, json (exact) and parquet.

A parameter or scrap set to None, one the run does not have and a NaN are all ``pd.NA`` in the
frame; the marks ``collect`` keeps (``null_mask``, ``nan_mask``) tell them apart here: the table
and csv write ``None``, nothing and ``nan``; json writes ``null``, leaves the key out, and
``{"$numberDouble": "NaN"}`` (``mlops_nb.strict_json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_nb import strict_json
from mlops_nb.errors import UsageError
from mlops_nb.results.collect import PARAM, SCRAP, nan_mask, null_mask

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("table", "csv", "json", "parquet")


def _cell(value: Any, *, null: bool = False, nan: bool = False) -> str:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return "None" if null else ("nan" if nan else "")
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, pd.Timestamp):
        return str(value.strftime("%Y-%m-%d %H:%M:%S"))
    text = str(value).replace("\n", " ")
    return text if len(text) <= 40 else text[:39] + "…"


def table_text(df: pd.DataFrame, *, width: int, keep_empty: bool = False) -> str:
    """An aligned text table that fits ``width``: empty columns dropped (unless ``keep_empty``:
    the columns were asked for), then columns clipped from the right (a last line says how many
    and how to see them). A value set to None shows as ``None``, NaN as ``nan``, an absent value
    as nothing."""
    from mlops_nb import output

    if df.empty:
        return "no runs match." if len(df.columns) else "no runs."
    marks = _marks(df)
    cols = [
        c for c in df.columns if keep_empty or any(marks.get(str(c), ())) or df[c].notna().any()
    ]
    cells = {
        c: [
            _cell(v, null=m == "None", nan=m == "NaN")
            for v, m in zip(df[c].tolist(), marks.get(str(c)) or [None] * len(df), strict=True)
        ]
        for c in cols
    }
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
    """Write ``df`` as csv/json/parquet to ``path`` (``-``: standard output), or return the text
    when ``path`` is None."""
    data: str | bytes
    if fmt == "csv":
        data = _with_nulls(df).to_csv(index=False)
    elif fmt == "json":
        data = json_text(df)
    elif fmt == "parquet":
        if path is None:
            raise UsageError("--format parquet writes a binary file: give -o FILE.parquet.")
        data = _parquet(df)
    else:
        raise UsageError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}.")
    if path is None:
        assert isinstance(data, str)
        return data
    from mlops_nb.notebook.io import write_user_file, writing

    with writing(path):
        write_user_file(path, data)
    return None


def _parquet(df: pd.DataFrame) -> bytes:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        from mlops_nb.errors import missing_extra

        raise missing_extra("pyarrow", "ml", "--format parquet") from None
    import io

    from mlops_nb.results.where import number_column

    # parquet has no whole number past int64: such a column is written as its exact digits
    wide = {str(c): df[c].astype("string") for c in df.columns if number_column(df[c])}
    buffer = io.BytesIO()
    (df.assign(**wide) if wide else df).to_parquet(buffer, index=False)
    return buffer.getvalue()


def _marks(df: pd.DataFrame) -> dict[str, list[str | None]]:
    """Per parameter/scrap column with marks, per row: ``"None"`` (set to None), ``"NaN"`` or
    None (a value, or absent: the frame holds ``pd.NA`` for all three)."""
    out: dict[str, list[str | None]] = {}
    for c in map(str, df.columns):
        if c.startswith((PARAM, SCRAP)):
            nulls, nans = null_mask(df, c), nan_mask(df, c)
            if any(nulls) or any(nans):
                out[c] = [
                    "None" if n else ("NaN" if x else None)
                    for n, x in zip(nulls, nans, strict=True)
                ]
    return out


def _with_nulls(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``None`` written where a value was set to None and ``nan`` where it is NaN
    (csv: empty means absent; ``nan`` and ``inf`` as pandas writes floats)."""
    out = df
    for c, marks in _marks(df).items():
        out = out.copy() if out is df else out
        texts = {"None": "None", "NaN": "nan"}
        column = out[c].astype(object)
        out[c] = [texts[m] if m else v for m, v in zip(marks, column.tolist(), strict=True)]
    return out


def _json_value(value: Any) -> Any:
    import math

    import pandas as pd

    if value is pd.NA or value is pd.NaT or value is None:
        return None
    if isinstance(value, pd.Timestamp):
        # the recorded spelling: microseconds, UTC as Z (pandas' own json cuts to milliseconds)
        return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None  # a missing value in a DataFrame (NaN values are marked: ``nan_mask``)
    return value


def json_text(df: pd.DataFrame) -> str:
    """The rows as a JSON array of objects, exactly: floats at full precision (``repr``),
    timestamps to the microsecond; non-finite floats follow ``mlops_nb.strict_json``'s rule
    (``{"$numberDouble": "NaN"}``, ``"Infinity"``, ``"-Infinity"``). A parameter or scrap set to
    None is ``null``; one the run does not have is left out of its object (a missing value of
    another column is ``null``)."""
    import math

    marks = _marks(df)
    params_or_scraps = {str(c) for c in df.columns if str(c).startswith((PARAM, SCRAP))}
    records = []
    for i, row in enumerate(df.to_dict(orient="records")):
        rec = {}
        for c, v in row.items():
            value = _json_value(v)
            mark = marks[str(c)][i] if str(c) in marks else None
            if mark == "NaN":
                value = math.nan
            elif value is None and str(c) in params_or_scraps and mark is None:
                continue  # absent in this run
            rec[str(c)] = value
        records.append(rec)
    return strict_json.dumps(records, indent=1, ensure_ascii=False) + "\n"
