"""The Jupytext adapter: a notebook kept as text (``.py`` in the percent or light format,
``.md``) read as an nbformat-4 notebook, wherever an ``.ipynb`` is accepted.

The parameters cell is found by its tag, as in an ``.ipynb`` (percent format:
``# %% tags=["parameters"]``). A text notebook names no kernel, so it gets the Python 3 kernel
(``kernelspec: python3``) unless its metadata header says otherwise.
Source: https://jupytext.readthedocs.io (``jupytext.reads``, formats).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SUFFIXES = (".py", ".md")
PYTHON3 = {"name": "python3", "display_name": "Python 3", "language": "python"}


def is_text_notebook(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in SUFFIXES


def parse_text_notebook(text: str, *, source: str) -> dict[str, Any]:
    """The notebook in ``text`` (format from ``source``'s suffix) as a plain dict.

    Raises ``MissingExtraError`` without jupytext and ``NotebookError`` for text jupytext
    cannot read.
    """
    from mlops_nb.errors import NotebookError

    try:
        import jupytext
    except ImportError:  # a core dependency; only a broken install gets here
        from mlops_nb.errors import missing_extra

        raise missing_extra("jupytext", "jupytext", f"reading {source}") from None
    ext = Path(source).suffix.lower().lstrip(".")
    try:
        node = jupytext.reads(text, fmt=ext)
        nb: dict[str, Any] = json.loads(jupytext.writes(node, fmt="ipynb"))
    except Exception as e:  # jupytext raises many kinds for text it cannot read
        raise NotebookError(
            f"{source}: not a Jupytext notebook ({type(e).__name__}: {e}). "
            "Use the percent format ('# %%' cell markers) or open it in Jupyter with Jupytext."
        ) from None
    metadata = nb.setdefault("metadata", {})
    if not isinstance(metadata.get("kernelspec"), dict) or not metadata["kernelspec"].get("name"):
        metadata["kernelspec"] = dict(PYTHON3)
    return nb
