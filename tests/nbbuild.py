"""Build small notebooks in tests (nbformat 4.5 JSON dicts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def code(
    source: str,
    *,
    tags: list[str] | None = None,
    id: str | None = None,
    outputs: list[dict[str, Any]] | None = None,
    count: int | None = None,
) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": count,
        "metadata": {"tags": tags} if tags else {},
        "outputs": outputs or [],
        "source": source,
    }
    if id:
        cell["id"] = id
    return cell


def params(source: str, **kw: Any) -> dict[str, Any]:
    return code(source, tags=["parameters"], **kw)


def markdown(source: str, *, id: str | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {"cell_type": "markdown", "metadata": {}, "source": source}
    if id:
        cell["id"] = id
    return cell


def notebook(*cells: dict[str, Any], minor: int = 5) -> dict[str, Any]:
    cells_out = []
    for i, c in enumerate(cells):
        c = dict(c)
        if minor >= 5:
            c.setdefault("id", f"cell-{i}")
        else:
            c.pop("id", None)
        cells_out.append(c)
    return {
        "cells": cells_out,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": minor,
    }


def write(path: Path, *cells: dict[str, Any], minor: int = 5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook(*cells, minor=minor), indent=1) + "\n", encoding="utf-8")
    return path
