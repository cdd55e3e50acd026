from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_nb.ml import datasets
from mlops_nb.ml.schema import (
    Schema,
    Violation,
    coerce,
    infer_schema,
    malformed_rate,
    missing_values,
    validate,
    violations_frame,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(40)],
            "kind": ["a", "b"] * 20,
            "x": np.linspace(0.0, 1.0, 40),
            "n": np.arange(40),
            "opt": [np.nan] + [1.0] * 39,
            "flag": [True, False] * 20,
        }
    )


def _kinds(violations: list[Violation]) -> set[tuple[str, str]]:
    return {(v.column, v.kind) for v in violations}


def test_infer_kinds_ranges_categories(frame: pd.DataFrame) -> None:
    schema = infer_schema(frame, max_categories=5)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {
        "id": "string",
        "kind": "categorical",
        "x": "float",
        "n": "integer",
        "opt": "float",
        "flag": "boolean",
    }
    assert schema.column("kind").categories == ("a", "b")
    assert schema.column("opt").nullable and not schema.column("x").nullable
    x = schema.column("x")
    assert x.min == pytest.approx(-0.1) and x.max == pytest.approx(1.1)
    assert validate(frame, schema) == []


def test_save_load_roundtrip(frame: pd.DataFrame, tmp_path: Path) -> None:
    schema = infer_schema(frame, max_categories=5)
    path = schema.save(tmp_path / "schema.json")
    assert Schema.load(path) == schema


def test_every_violation_kind(frame: pd.DataFrame) -> None:
    schema = infer_schema(frame, max_categories=5)
    bad = frame.drop(columns=["flag"]).assign(extra=1)
    bad["kind"] = ["a", "c"] * 20
    bad["x"] = bad["x"].astype(object)
    bad.loc[0, "x"] = "ERR"
    bad.loc[1, "x"] = 99.0
    bad.loc[2, "n"] = np.nan
    found = _kinds(validate(bad, schema, max_categories=5))
    assert found == {
        ("flag", "missing_column"),
        ("extra", "extra_column"),
        ("kind", "unseen_category"),
        ("x", "dtype"),
        ("x", "malformed"),
        ("x", "out_of_range"),
        ("n", "nulls"),
    }
    table = violations_frame(validate(bad, schema, max_categories=5))
    assert list(table.columns) == ["column", "kind", "count", "message"]
    assert table.set_index("kind").loc["unseen_category", "count"] == 20
    assert "'c'" in table.set_index("kind").loc["unseen_category", "message"]


def test_drifted_batch_violates_the_reference_schema() -> None:
    schema = infer_schema(datasets.make_rare_events())
    found = _kinds(validate(datasets.make_rare_events_drifted(), schema))
    assert {
        ("magnet_type", "unseen_category"),
        ("noise_level", "nulls"),
        ("sampling_jitter", "malformed"),
        ("plateau_level", "out_of_range"),
    } <= found


def test_coerce_makes_malformed_values_missing() -> None:
    ref = datasets.make_rare_events(300, 10)
    schema = infer_schema(ref)
    cur = datasets.make_rare_events_drifted(300, 10, malformed_rate=0.2).drop(columns=["bias"])
    fixed = coerce(cur, schema)
    assert fixed["sampling_jitter"].dtype == float
    assert fixed["bias"].isna().all()
    assert fixed["max_gap"].dtype == np.int64
    assert malformed_rate(cur, schema) > 0 and malformed_rate(fixed, schema) == 0


def test_missing_values_table() -> None:
    df = pd.DataFrame({"a": [1, None, None], "b": [1, 2, 3]})
    table = missing_values(df)
    assert table.index[0] == "a" and table.loc["a", "missing"] == 2
    assert table.loc["a", "rate"] == pytest.approx(2 / 3)
