"""JSON that every strict RFC 8259 parser reads: one rule for non-finite numbers.

JSON has no NaN or Infinity; Python's ``json`` writes them as bare ``NaN``/``Infinity`` tokens,
which JavaScript's ``JSON.parse``, MLflow and other strict readers reject. mlops-nb writes a
non-finite float as the object ``{"$numberDouble": "NaN"}`` (or ``"Infinity"``, ``"-Infinity"``):
MongoDB Extended JSON v2's encoding of a double
(https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/), lossless and unambiguous,
and decodes it back to a float when reading its own files. The rule applies to every JSON file
the product writes (run records, output notebooks' metadata, sweep records, pipeline state,
``--json`` output, ``collect --format json``).
"""

from __future__ import annotations

import json
import math
from typing import Any

KEY = "$numberDouble"
_NAMES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _name(x: float) -> str:
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def encode(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``{"$numberDouble": name}`` (tuples
    become lists). Values without non-finite floats come back as they are (same objects)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else {KEY: _name(value)}
    if isinstance(value, dict):
        items = {k: encode(v) for k, v in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    if isinstance(value, (list, tuple)):
        seq = [encode(v) for v in value]
        same = isinstance(value, list) and all(a is b for a, b in zip(seq, value, strict=True))
        return value if same else seq
    return value


def decode(value: Any) -> Any:
    """The inverse of ``encode``: ``{"$numberDouble": "NaN"}`` becomes ``float("nan")``."""
    if isinstance(value, dict):
        if len(value) == 1 and value.get(KEY) in _NAMES:
            return _NAMES[value[KEY]]
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` under the rule; never writes ``NaN``/``Infinity`` (``allow_nan=False``)."""
    return json.dumps(encode(value), allow_nan=False, **kwargs)


def loads(text: str | bytes) -> Any:
    """``json.loads`` and ``decode`` (bare ``NaN`` in files written before the rule still load)."""
    return decode(json.loads(text))
