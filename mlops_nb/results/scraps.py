"""The scrapbook adapter: read values glued with ``scrapbook.glue`` from an executed notebook.

We read scrapbook's output format ourselves (``application/scrapbook.scrap.<encoder>+json``
outputs) instead of calling scrapbook: its reader validates every scrap twice with jsonschema
(87 % of its time, FACTS.md) and its DataFrame helpers are broken on pandas >= 2. DataFrames
(encoder ``pandas``: base64 parquet) are decoded only when asked for.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "application/scrapbook.scrap."


@dataclass(frozen=True)
class Scrap:
    """One glued value as stored in the notebook (``data`` still encoded for DataFrames)."""

    name: str
    data: Any
    encoder: str
    cell_index: int

    def value(self) -> Any:
        """The value with its type: numbers, strings, lists, dicts, or a pandas DataFrame."""
        if self.encoder == "pandas":
            import pandas as pd

            raw = base64.b64decode(self.data)
            return pd.read_parquet(io.BytesIO(raw))
        return self.data

    @property
    def is_scalar(self) -> bool:
        return self.encoder != "pandas" and (
            self.data is None or isinstance(self.data, (bool, int, float, str))
        )


def iter_scraps(nb: Mapping[str, Any]) -> Iterator[Scrap]:
    """Every glued scrap in output order (a name glued twice appears twice; the last wins)."""
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not isinstance(data, Mapping):
                continue
            for mime, payload in data.items():
                if mime.startswith(PREFIX) and isinstance(payload, Mapping) and "name" in payload:
                    encoder = str(payload.get("encoder") or mime[len(PREFIX) :].split("+")[0])
                    yield Scrap(str(payload["name"]), payload.get("data"), encoder, index)


def scraps_of(nb: Mapping[str, Any]) -> dict[str, Scrap]:
    """The last scrap of each name."""
    return {s.name: s for s in iter_scraps(nb)}


def scalar_scraps(nb: Mapping[str, Any]) -> dict[str, Any]:
    """Scalar scraps ``{name: value}`` for the run record (NaN/inf become None: JSON has none)."""
    out: dict[str, Any] = {}
    for name, s in scraps_of(nb).items():
        if s.is_scalar:
            v = s.data
            out[name] = None if isinstance(v, float) and not math.isfinite(v) else v
    return out
