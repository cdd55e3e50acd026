"""The report's runs without pandas (``report.rows``) are what ``collect``'s frame holds: the
same columns in the same order, the same values (``pd.NA`` as None, a time as a UTC datetime),
the same None-versus-absent marks, and sorted as ``sort_values`` sorts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlops_nb.report.rows import Rows, sorted_positions
from mlops_nb.results.collect import INDEX_COLUMNS, collect, explicit_nulls
from mlops_nb.store import query
from tests.results.factory import make_run


def rows_of(runs_dir: Path) -> Rows:
    """Every run of the store, as ``collect(runs_dir)`` has them (in id order)."""
    return Rows.of_columns(query.columns(runs_dir, INDEX_COLUMNS))


def _plain(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


VALUES: list[dict[str, Any]] = [
    {"i": 1, "f": 0.5, "b": True, "s": "rf", "mixed": 1, "big": 10**25, "none": None},
    {"i": 2, "f": math.nan, "b": False, "s": "svm", "mixed": "x", "big": 3, "none": None},
    {"i": None, "f": 1, "b": None, "s": None, "mixed": [1, 2], "big": 2.5, "none": None},
    {"f": math.inf, "s": "<b>", "mixed": {"a": 1}},
]


@pytest.fixture
def store(runs_dir: Path) -> Path:
    for k, params in enumerate(VALUES):
        make_run(
            runs_dir,
            params=params,
            scraps={"f1": [0.5, 0.5, None, 0.9][k], "n": k},
            status="failed" if k == 2 else "ok",
            sweep_id="s" if k else None,
            name="first" if k == 0 else None,
        )
    return runs_dir


def test_the_rows_are_collects_frame(store: Path) -> None:
    df = collect(store).sort_values("id")
    rows = rows_of(store)
    assert list(rows.columns) == [str(c) for c in df.columns]
    expected = [{k: _plain(v) for k, v in r.items()} for r in df.to_dict(orient="records")]
    assert rows.records() == expected
    assert dict(rows.nulls) == explicit_nulls(df)
    for c in rows.columns:  # numbers are numbers (exact ones too), and bools none
        numeric = pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        assert rows.numeric(c) == (numeric or c == "params.big"), c


@pytest.mark.parametrize("ascending", [True, False])
@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        ([0.5, None, 0.7, 0.5, 0.1, None, 0.7], "Float64"),
        ([3, 1, None, 3, 2], "Int64"),
        (["b", None, "a", "b", "B", "é"], "string"),
        ([True, None, False, True], "boolean"),
        ([10**25, 2.5, None, 3, 10**25], object),
    ],
)
def test_sorted_as_pandas_sorts(values: list[Any], dtype: Any, ascending: bool) -> None:
    s = pd.Series(pd.array(values, dtype=dtype))
    by_pandas = s.sort_values(ascending=ascending, na_position="last", kind="stable")
    assert sorted_positions(values, ascending=ascending) == by_pandas.index.tolist()


def test_a_time_without_an_offset_is_utc_and_a_bad_one_missing() -> None:
    rows = Rows.of_columns(
        {c: [None, None] for c in INDEX_COLUMNS}
        | {"id": ["a", "b"], "started_at": ["2026-11-30T10:00:00", "not a time"]}
        | {"params": ["{}", "{}"], "scraps": ["{}", "{}"]}
    )
    first, bad = rows["started"]
    assert first == pd.Timestamp("2026-11-30T10:00:00", tz="UTC").to_pydatetime()
    assert bad is None
