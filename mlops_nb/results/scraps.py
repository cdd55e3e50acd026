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

from mlops_nb import strict_json

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


# jupyter_client sends a message holding a non-finite float (``glue("auc", float("nan"))``) only
# after turning each such float into its repr string and writing this warning to the cell's stderr
# (``jupyter_client.session.json_packer`` → ``json_clean``). Where the warning is, the reprs are
# read back as the floats they were.
_CLEANED_WARNING = "Message serialization failed"
_REPRS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _unclean(value: Any) -> Any:
    if isinstance(value, str):
        return _REPRS.get(value, value)
    if isinstance(value, list):
        return [_unclean(v) for v in value]
    if isinstance(value, dict):
        return {k: _unclean(v) for k, v in value.items()}
    return value


def _cleaned(outputs: list[Any]) -> bool:
    for out in outputs:
        if isinstance(out, Mapping) and out.get("name") == "stderr":
            text = out.get("text", "")
            if _CLEANED_WARNING in (text if isinstance(text, str) else "".join(text)):
                return True
    return False


def iter_scraps(nb: Mapping[str, Any]) -> Iterator[Scrap]:
    """Every glued scrap in output order (a name glued twice appears twice; the last wins).

    Non-finite floats come back as floats (see ``_CLEANED_WARNING``; ``mlops_nb.strict_json``
    encodes them when a record is written).
    """
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        outputs = cell.get("outputs", [])
        cleaned = _cleaned(outputs)
        for output in outputs:
            data = output.get("data")
            if not isinstance(data, Mapping):
                continue
            for mime, payload in data.items():
                if mime.startswith(PREFIX) and isinstance(payload, Mapping) and "name" in payload:
                    encoder = str(payload.get("encoder") or mime[len(PREFIX) :].split("+")[0])
                    value = strict_json.decode(payload.get("data"))
                    if cleaned and encoder == "json":
                        value = _unclean(value)
                    yield Scrap(str(payload["name"]), value, encoder, index)


def scraps_of(nb: Mapping[str, Any]) -> dict[str, Scrap]:
    """The last scrap of each name."""
    return {s.name: s for s in iter_scraps(nb)}


def scalar_scraps(nb: Mapping[str, Any]) -> dict[str, Any]:
    """Scalar scraps ``{name: value}`` for the run record (non-finite floats stay floats: the
    record's writer encodes them, ``mlops_nb.strict_json``)."""
    return {name: s.data for name, s in scraps_of(nb).items() if s.is_scalar}
