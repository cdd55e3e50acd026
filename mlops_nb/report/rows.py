"""A section's runs as plain Python values: ``collect``'s columns (the same names, order and
kinds, ``results.collect.typed_columns``) without pandas.

At 100,000 runs the page after a sweep draws one section anew, and importing pandas cost about
0.4 s of it, more than reading and sorting the section's runs (issue 18: ``report`` in 1 s);
the page's tables and the figures of more than ``plots.MAX_POINTS`` runs need none of it.
Values are what ``DataFrame.to_dict(orient="records")`` gives for collect's dtypes, with
``None`` for ``pd.NA``: ``str``, ``int``, ``float`` (a NaN of a float column is missing, as
collect's ``Float64`` holds it), ``bool``, a JSON text (collect's ``json`` kind), and a UTC
``datetime`` for ``started`` (``pd.to_datetime(utc=True)``: a time without an offset is UTC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Numbers: pandas' numeric dtypes (bool is none), and ``collect.NUMBER``'s exact ``object``
# column of ints past Int64 and floats (plotted as floats, sorted and shown exact)
NUMERIC = frozenset({"Int64", "Float64", "number"})
TEXTS = frozenset({"string", "json"})  # texts (JSON for mixed or nested values)


@dataclass(frozen=True)
class Rows:
    """Runs (one per row) with collect's columns: ``data`` maps each column (in ``columns``'
    order) to its values, one per run; ``kinds`` its kind (``collect.column_kind``'s, and
    ``datetime``); ``nulls`` the ids of the runs whose parameter or scrap is set to ``None``
    there (as opposed to absent: both are ``None`` in ``data``; ``collect.explicit_nulls``)."""

    columns: tuple[str, ...]
    kinds: Mapping[str, str]
    data: Mapping[str, list[Any]]
    nulls: Mapping[str, frozenset[str]]

    @classmethod
    def of_columns(cls, cols: Mapping[str, list[Any]]) -> Rows:
        """The rows of index columns (``collect.INDEX_COLUMNS``, one list each)."""
        from mlops_nb.results.collect import typed_columns

        positions: dict[str, list[int]] = {}
        typed = typed_columns(dict(cols), positions)
        ids = cols["id"]
        return cls(
            tuple(name for name, _, _ in typed),
            {name: kind for name, _, kind in typed},
            {name: _values(values, kind) for name, values, kind in typed},
            {c: frozenset(ids[i] for i in rows) for c, rows in positions.items()},
        )

    def __len__(self) -> int:
        return len(self.data["id"])

    def __getitem__(self, column: str) -> list[Any]:
        return self.data[column]

    def take(self, positions: Sequence[int]) -> Rows:
        """The rows at ``positions``, in that order."""
        data = {c: [values[i] for i in positions] for c, values in self.data.items()}
        return Rows(self.columns, self.kinds, data, self.nulls)

    def having(self, column: str, values: Collection[Any]) -> Rows:
        """The rows whose ``column`` is one of ``values``, in order."""
        return self.take([i for i, v in enumerate(self.data[column]) if v in values])

    def only(self, columns: Iterable[str]) -> Rows:
        """The rows with ``columns`` alone (and ``id``, which the None marks are by)."""
        kept = tuple(dict.fromkeys(["id", *columns]))
        return self.without(c for c in self.columns if c not in kept)

    def without(self, columns: Iterable[str]) -> Rows:
        """The rows without ``columns``."""
        gone = set(columns)
        kept = tuple(c for c in self.columns if c not in gone)
        return Rows(
            kept,
            {c: self.kinds[c] for c in kept},
            {c: self.data[c] for c in kept},
            {c: ids for c, ids in self.nulls.items() if c not in gone},
        )

    def records(self) -> list[dict[str, Any]]:
        """One ``{column: value}`` per row."""
        return [dict(zip(self.columns, row, strict=True)) for row in self._tuples()]

    def _tuples(self) -> Iterable[tuple[Any, ...]]:
        return zip(*(self.data[c] for c in self.columns), strict=True)

    def numeric(self, column: str) -> bool:
        """Whether ``column`` holds numbers (``NUMERIC``)."""
        return self.kinds.get(column) in NUMERIC

    def null(self, column: str, run_id: str) -> bool:
        """Whether run ``run_id``'s ``column`` is set to ``None`` (not absent)."""
        return run_id in self.nulls.get(column, ())

    def null_mask(self, column: str) -> list[bool]:
        """Per row: is ``column`` set to ``None`` there (``collect.null_mask``)."""
        ids = self.nulls.get(column, frozenset())
        return [rid in ids for rid in self.data["id"]]


def present(values: Iterable[Any]) -> list[Any]:
    """The values that are not missing."""
    return [v for v in values if v is not None]


def sorted_positions(values: Sequence[Any], *, ascending: bool) -> list[int]:
    """The positions of ``values`` sorted (missing last; equal values in their order), as
    pandas' ``sort_values(na_position="last", kind="stable")``."""
    there = [i for i, v in enumerate(values) if v is not None]
    there.sort(key=values.__getitem__, reverse=not ascending)  # reverse keeps ties in order
    return there + [i for i, v in enumerate(values) if v is None]


def _values(values: list[Any], kind: str) -> list[Any]:
    """collect's values of a column of ``kind`` (``collect.plain_values``; times as UTC)."""
    from mlops_nb.results.collect import plain_values

    return [_utc(v) for v in values] if kind == "datetime" else plain_values(values, kind)


def _utc(text: Any) -> dt.datetime | None:
    """An ISO 8601 time as an aware UTC datetime (none: missing or not a time)."""
    if not isinstance(text, str):
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
