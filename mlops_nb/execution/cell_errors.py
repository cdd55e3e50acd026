"""Errors in an executed notebook's outputs (for ``--allow-errors``: every one is recorded)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlops_nb.notebook.io import INJECTED_TAG, tags_of

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def all_errors(nb: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``[{"ename", "evalue", "cell_index", "cell_id"}]`` of every error output, in cell order.

    ``cell_index`` counts cells as the record's ``error`` does (the injected parameters cell
    does not count). A ``SystemExit`` with a clean code is not an error.
    """
    out: list[dict[str, Any]] = []
    injected = 0
    for i, cell in enumerate(nb.get("cells", [])):
        if INJECTED_TAG in tags_of(cell):
            injected += 1
            continue
        if cell.get("cell_type") != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") != "error":
                continue
            if o.get("ename") == "SystemExit" and str(o.get("evalue")) in ("", "0", "None"):
                continue
            out.append(
                {
                    "ename": o.get("ename"),
                    "evalue": _ANSI.sub("", str(o.get("evalue"))),
                    "cell_index": i - injected,
                    "cell_id": cell.get("id"),
                }
            )
    return out
