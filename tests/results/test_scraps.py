"""The scrapbook format read without scrapbook: DataFrames (base64 parquet), scalars, the
non-finite floats jupyter_client turned into strings, and outputs that are not scraps."""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import pandas as pd

from mlops_nb.results.scraps import PREFIX, iter_scraps, scalar_scraps, scraps_of


def scrap(name: str, data: Any, encoder: str = "json") -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {f"{PREFIX}{encoder}+json": {"name": name, "data": data, "encoder": encoder}},
    }


def notebook(*cells: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cells": [{"cell_type": "code", "outputs": outs} for outs in cells]}


def test_a_dataframe_scrap_is_decoded_only_when_asked() -> None:
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    buf = io.BytesIO()
    df.to_parquet(buf)
    nb = notebook([scrap("table", base64.b64encode(buf.getvalue()).decode(), "pandas")])
    (s,) = iter_scraps(nb)
    assert s.encoder == "pandas" and not s.is_scalar and s.cell_index == 0
    pd.testing.assert_frame_equal(s.value(), df)
    assert scalar_scraps(nb) == {}


def test_non_finite_floats_cleaned_by_jupyter_client_come_back() -> None:
    warning = {"output_type": "stream", "name": "stderr", "text": ["Message serialization failed"]}
    nb = notebook([warning, scrap("auc", "nan"), scrap("vals", ["inf", "-inf", "x", 1])])
    values = scalar_scraps(nb)
    assert math.isnan(values["auc"])
    assert scraps_of(nb)["vals"].value() == [math.inf, -math.inf, "x", 1]
    # without the warning a string "nan" is a string
    plain = notebook([scrap("auc", "nan"), scrap("d", {"k": "inf"})])
    assert scalar_scraps(plain) == {"auc": "nan"}
    assert scraps_of(plain)["d"].value() == {"k": "inf"}


def test_other_outputs_are_not_scraps_and_the_last_glue_wins() -> None:
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": "x"},
            {
                "cell_type": "code",
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": "hi"},
                    {"output_type": "display_data", "data": {"text/plain": "1"}},
                    {"output_type": "display_data", "data": {f"{PREFIX}json+json": "no name"}},
                    scrap("f1", 0.5),
                    scrap("f1", 0.7),
                ],
            },
        ]
    }
    assert [s.data for s in iter_scraps(nb)] == [0.5, 0.7]
    assert scalar_scraps(nb) == {"f1": 0.7}
    assert scraps_of(nb)["f1"].cell_index == 1
