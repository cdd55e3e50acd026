"""A data schema: inferred from a DataFrame, saved as JSON, and checked against new data.

Exploratory analysis fixes what input data must look like (columns, types, ranges, categories);
production data are validated against it before a model sees them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

Kind = Literal["integer", "float", "boolean", "categorical", "string", "datetime"]
_FAMILY = {
    "integer": "numeric",
    "float": "numeric",
    "boolean": "boolean",
    "categorical": "text",
    "string": "text",
    "datetime": "datetime",
}
VIOLATION_KINDS = (
    "missing_column",
    "extra_column",
    "dtype",
    "nulls",
    "out_of_range",
    "unseen_category",
    "malformed",
)


@dataclass(frozen=True)
class ColumnSchema:
    """What one column must hold. ``min``/``max`` apply to numbers, ``categories`` to categoricals."""

    name: str
    kind: Kind
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Schema:
    """The columns a data set must have, in order."""

    columns: tuple[ColumnSchema, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSchema:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"column {name!r} is not in the schema (columns: {', '.join(self.names)})")

    def to_dict(self) -> dict[str, Any]:
        cols = []
        for c in self.columns:
            d = asdict(c)
            d["categories"] = list(c.categories) if c.categories is not None else None
            cols.append(d)
        return {"version": 1, "columns": cols}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        cols = []
        for d in data["columns"]:
            cats = d.get("categories")
            cols.append(
                ColumnSchema(
                    name=str(d["name"]),
                    kind=d["kind"],
                    nullable=bool(d.get("nullable", False)),
                    min=d.get("min"),
                    max=d.get("max"),
                    categories=tuple(str(x) for x in cats) if cats is not None else None,
                )
            )
        return cls(tuple(cols))

    def save(self, path: str | Path) -> Path:
        """Write the schema as JSON; returns the path."""
        p = Path(path)
        p.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return p

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        """Read a schema written by ``save``."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_frame(self) -> pd.DataFrame:
        """One row per column, for display."""
        return pd.DataFrame([asdict(c) for c in self.columns])


@dataclass(frozen=True)
class Violation:
    """One way a DataFrame breaks its schema; ``count`` is the number of offending rows."""

    column: str
    kind: str  # one of VIOLATION_KINDS
    count: int
    message: str


def _kind_of(s: pd.Series, max_categories: int) -> Kind:
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_integer_dtype(s):
        return "integer"
    if pd.api.types.is_float_dtype(s):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    if s.nunique(dropna=True) <= max_categories:
        return "categorical"
    return "string"


def infer_schema(
    df: pd.DataFrame, *, max_categories: int = 20, range_margin: float = 0.1
) -> Schema:
    """Infer a schema: kinds, nullability, numeric ranges and categories.

    Text columns with at most ``max_categories`` distinct values are categorical (unseen values
    are violations); others are free text (identifiers). Numeric ranges are widened by
    ``range_margin`` × (max − min) on each side, so a fresh sample rarely falls outside.
    """
    cols = []
    for name in df.columns:
        s = df[name]
        kind = _kind_of(s, max_categories)
        lo = hi = None
        cats = None
        if kind in ("integer", "float") and s.notna().any():
            mn, mx = float(s.min()), float(s.max())
            pad = range_margin * (mx - mn)
            lo, hi = mn - pad, mx + pad
        elif kind == "categorical":
            cats = tuple(sorted(str(x) for x in s.dropna().unique()))
        cols.append(ColumnSchema(str(name), kind, bool(s.isna().any()), lo, hi, cats))
    return Schema(tuple(cols))


def _malformed(s: pd.Series, kind: Kind) -> pd.Series:
    """True where a present value cannot be read as ``kind``."""
    present = s.notna() & (s.astype(str).str.strip() != "")
    if kind in ("integer", "float"):
        return present & pd.to_numeric(s, errors="coerce").isna() | (
            s.astype(str).str.strip() == ""
        )
    if kind == "boolean":
        ok = s.isin([True, False, 0, 1, "True", "False", "true", "false"])
        return present & ~ok
    if kind == "datetime":
        return present & pd.to_datetime(s, errors="coerce").isna()
    return pd.Series(False, index=s.index)


def validate(df: pd.DataFrame, schema: Schema, *, max_categories: int = 20) -> list[Violation]:
    """Every violation of ``schema`` by ``df`` (empty list = valid).

    Checks missing and extra columns, the kind of each column (integer and float are
    interchangeable), nulls in non-nullable columns, malformed values (text that is not a number
    in a numeric column...), values outside the numeric range and unseen categories.
    """
    out: list[Violation] = []
    for name in schema.names:
        if name not in df.columns:
            out.append(Violation(name, "missing_column", len(df), f"column {name!r} is missing"))
    for name in df.columns:
        if str(name) not in schema.names:
            out.append(
                Violation(
                    str(name), "extra_column", len(df), f"column {name!r} is not in the schema"
                )
            )
    for col in schema.columns:
        if col.name in df.columns:
            out.extend(_check_column(df[col.name], col, max_categories))
    return out


def _check_column(s: pd.Series, col: ColumnSchema, max_categories: int) -> list[Violation]:
    out: list[Violation] = []
    actual = _kind_of(s, max_categories)
    if _FAMILY[actual] != _FAMILY[col.kind] and s.notna().any():
        out.append(
            Violation(
                col.name,
                "dtype",
                len(s),
                f"column {col.name!r} should be {col.kind} but holds {actual} ({s.dtype})",
            )
        )
    bad = _malformed(s, col.kind)
    if bad.any():
        examples = ", ".join(repr(v) for v in s[bad].astype(str).unique()[:3])
        out.append(
            Violation(
                col.name,
                "malformed",
                int(bad.sum()),
                f"{int(bad.sum())} value(s) in {col.name!r} are not {col.kind}: {examples}",
            )
        )
    nulls = int(s.isna().sum())
    if nulls and not col.nullable:
        out.append(
            Violation(
                col.name,
                "nulls",
                nulls,
                f"{nulls} missing value(s) in {col.name!r}, which had none",
            )
        )
    return out + _check_values(s, col)


def _check_values(s: pd.Series, col: ColumnSchema) -> list[Violation]:
    """Values outside the column's range, or categories it never had."""
    out: list[Violation] = []
    if col.kind in ("integer", "float"):
        num = pd.to_numeric(s, errors="coerce")
        lo = -math.inf if col.min is None else col.min
        hi = math.inf if col.max is None else col.max
        outside = int(((num < lo) | (num > hi)).sum())
        if outside:
            out.append(
                Violation(
                    col.name,
                    "out_of_range",
                    outside,
                    f"{outside} value(s) in {col.name!r} outside [{lo:.4g}, {hi:.4g}]",
                )
            )
    if col.kind == "categorical" and col.categories is not None:
        present = s.dropna().astype(str)
        unseen = present[~present.isin(col.categories)]
        if len(unseen):
            names = ", ".join(repr(v) for v in sorted(unseen.unique())[:5])
            out.append(
                Violation(
                    col.name,
                    "unseen_category",
                    len(unseen),
                    f"{len(unseen)} value(s) in {col.name!r} are unseen categories: {names}",
                )
            )
    return out


def violations_frame(violations: list[Violation]) -> pd.DataFrame:
    """Violations as a table (columns: column, kind, count, message)."""
    return pd.DataFrame(
        [asdict(v) for v in violations], columns=["column", "kind", "count", "message"]
    )


def coerce(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """A copy of ``df`` with the schema's types: malformed numbers become NaN, missing columns NaN.

    Use it before predicting on production data; count the damage first with ``validate``.
    """
    out = df.copy()
    for col in schema.columns:
        if col.name not in out.columns:
            out[col.name] = np.nan
        elif col.kind in ("integer", "float"):
            num = pd.to_numeric(out[col.name], errors="coerce")
            keep_int = col.kind == "integer" and num.notna().all()
            out[col.name] = num.astype("int64" if keep_int else "float64")
        elif col.kind in ("categorical", "string"):
            out[col.name] = (
                out[col.name].astype("string").astype(object).where(out[col.name].notna())
            )
    return out


def missing_values(df: pd.DataFrame) -> pd.DataFrame:
    """Per column: number and rate of missing values, most missing first."""
    n = df.isna().sum()
    table = pd.DataFrame({"missing": n.astype(int), "rate": n / max(len(df), 1)})
    return table.sort_values("missing", ascending=False)


def malformed_rate(df: pd.DataFrame, schema: Schema) -> float:
    """Fraction of the schema's cells in ``df`` holding malformed values."""
    cells = bad = 0
    for col in schema.columns:
        if col.name in df.columns:
            cells += len(df)
            bad += int(_malformed(df[col.name], col.kind).sum())
    return bad / cells if cells else 0.0
