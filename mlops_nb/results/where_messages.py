"""The messages of ``results.where`` for a filter that parses but does not apply to the columns:
a comparison between types that do not compare (``f1 > 'a'``, ``started > 1``), and ``&``, ``|``
or ``~`` meeting a value instead of a condition (Python's precedence: ``f1 > 0.5 & model == 'x'``
is ``f1 > (0.5 & model) == 'x'``). One line each: what was compared, its type, how to fix it.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from mlops_nb.results import operators

QUOTED = re.compile(r"('(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\")")  # string literals


_WORDS = {"&": "and", "|": "or", "~": "not"}


def precedence(expr: str, op: str) -> str:
    """Why ``&``/``|``/``~`` met a value, and the filter rewritten with and/or/not."""
    parts = QUOTED.split(expr)
    words = "".join(
        p if i % 2 else re.sub(r"\s*([&|~])\s*", lambda m: f" {_WORDS[m.group(1)]} ", p)
        for i, p in enumerate(parts)
    )
    example = "~(model == 'rf')" if op == "~" else f"(f1 > 0.5) {op} (model == 'rf')"
    return (
        f"`{op}` joins conditions and binds tighter than comparisons (== < > ...), so here it "
        f"met a value: add parentheses around each comparison, e.g. {example}, or use "
        f'`{_WORDS[op]}`: "{words.strip()}".'
    )


def _kind(value: Any) -> str:
    import pandas as pd

    if isinstance(value, pd.Series):
        dtype = value.dtype
        if pd.api.types.is_bool_dtype(dtype):
            return "True/False"
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
            return "number"
        return "date" if pd.api.types.is_datetime64_any_dtype(dtype) else "text"
    if isinstance(value, bool):
        return "True/False"
    return "text" if isinstance(value, str) else "number"


_EXAMPLE = {"number": "0.5", "text": "'rf'", "date": "'2026-01-31'", "True/False": "True"}


def mismatch(op: ast.cmpop, left: Any, right: Any) -> str:
    """One line: which column, its type, what it was compared with, and how to fix it."""
    import pandas as pd

    def what(v: Any) -> str:
        if isinstance(v, pd.Series):
            return f"the {_kind(v)} column {v.name!r}"
        return f"the {_kind(v)} {v!r}"

    spelled = operators.spelling(op)
    column = left if isinstance(left, pd.Series) else right
    if not isinstance(column, pd.Series):
        return f"cannot compare {what(left)} with {what(right)} ({spelled})"
    kind = _kind(column)
    hint = f"{column.name} {spelled} {_EXAMPLE[kind]}"
    quoted = " (in quotes)" if kind in ("text", "date") else ""
    return (
        f"cannot compare {what(left)} with {what(right)} ({spelled}); compare a {kind} "
        f"column with a {kind}{quoted}, e.g. {hint}"
    )
