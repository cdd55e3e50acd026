"""Read and write notebooks; hash their code. Light: json + nbformat only."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mlops_nb.errors import NotebookError, UsageError

INJECTED_TAG = "injected-parameters"
PARAMETERS_TAG = "parameters"


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a notebook file as plain JSON, checking only the structure we rely on."""
    p = Path(path)
    return parse_json(_text_of(p), source=str(p))


def _text_of(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookError(f"{p}: no such notebook file. Check the path.") from None
    except IsADirectoryError:
        raise NotebookError(f"{p}: is a folder, not a notebook (.ipynb) file.") from None
    except UnicodeDecodeError:
        raise NotebookError(f"{p}: not a notebook: the file is not UTF-8 text.") from None
    except OSError as e:
        raise NotebookError(f"{p}: cannot read the notebook: {e.strerror}.") from None


def read_notebook(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a notebook: an ``.ipynb`` as JSON, a Jupytext text notebook (``.py``, ``.md``)
    through jupytext. Used wherever a notebook to run, sweep, inspect or lint is accepted."""
    from mlops_nb.jupytext_adapter import is_text_notebook, parse_text_notebook

    if not is_text_notebook(path):
        return read_json(path)
    p = Path(path)
    nb = parse_text_notebook(_text_of(p), source=str(p))
    problem = structure_problem(nb)
    if problem:
        raise NotebookError(f"{p}: not a valid notebook: {problem}.")
    return nb


def parse_json(text: str, *, source: str) -> dict[str, Any]:
    """Parse notebook JSON text; a malformed file is a ``NotebookError`` naming the line."""
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookError(
            f"{source}: not a valid notebook: invalid JSON at line {e.lineno}, column {e.colno} "
            f"({e.msg}). Was the file truncated or edited by hand? Restore it from version control "
            "or re-save it from Jupyter."
        ) from None
    problem = structure_problem(nb)
    if problem:
        raise NotebookError(f"{source}: not a valid notebook: {problem}.")
    return nb  # type: ignore[no-any-return]


def structure_problem(nb: Any) -> str | None:
    """Why ``nb`` is not a usable nbformat-4 notebook, or None."""
    if not isinstance(nb, dict):
        return "the top level is not a JSON object"
    if nb.get("nbformat") != 4:
        return f"nbformat {nb.get('nbformat')!r} is not supported (only nbformat 4)"
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return "it has no 'cells' list"
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return f"cell {i} has no valid 'cell_type'"
        if not isinstance(cell.get("source"), (str, list)):
            return f"cell {i} has no 'source'"
        if cell["cell_type"] == "code" and not isinstance(cell.get("outputs"), list):
            return f"code cell {i} has no 'outputs' list"
    return None


def source_of(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def tags_of(cell: Mapping[str, Any]) -> list[str]:
    """A cell's tags; tolerant of malformed metadata (lint and strip read broken notebooks)."""
    md = cell.get("metadata")
    tags = md.get("tags") if isinstance(md, dict) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def code_cells(nb: Mapping[str, Any]) -> Iterable[tuple[int, Mapping[str, Any]]]:
    """(index, cell) of the code cells, skipping cells injected by papermill/mlops-nb."""
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") == "code" and INJECTED_TAG not in tags_of(cell):
            yield i, cell


def code_sha256(nb: Mapping[str, Any]) -> str:
    """Hash of the code cells' sources only: outputs, metadata and markdown do not count."""
    sources = [source_of(c) for _, c in code_cells(nb)]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def atomic_write_text(path: str | os.PathLike[str], text: str, *, fsync: bool = False) -> None:
    """Write a file atomically: a temp file in the same folder, then ``os.replace``."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json_notebook(path: str | os.PathLike[str], nb: Mapping[str, Any]) -> None:
    """Write a notebook the way nbformat does (indent 1, sorted keys, trailing newline)."""
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Around writing a file the user named (``-o``): an OSError becomes a one-line UsageError."""
    try:
        yield
    except OSError as e:
        raise UsageError(
            f"cannot write {path}: {e.strerror or e}. Check that its folder exists and is writable."
        ) from None
