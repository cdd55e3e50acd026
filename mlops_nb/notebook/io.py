"""Read and write notebooks; hash their code. Light: json + nbformat only."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mlops_nb.errors import NotebookError, UsageError

INJECTED_TAG = "injected-parameters"
PARAMETERS_TAG = "parameters"


def read_json(path: str | os.PathLike[str], *, upgrade: bool = True) -> dict[str, Any]:
    """Read a notebook file as plain JSON, checking only the structure we rely on.

    Older notebooks (nbformat 1-3, or no ``nbformat`` key) are read as Jupyter, papermill and
    nbstripout read them: with ``upgrade`` (the default) they are converted to nbformat 4 in
    memory (see ``upgraded``); without it they come back as stored, for ``strip``, which keeps a
    file's version as nbstripout does.
    """
    p = Path(path)
    return parse_json(_text_of(p), source=str(p), upgrade=upgrade)


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


def parse_json(text: str, *, source: str, upgrade: bool = True) -> dict[str, Any]:
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
    return upgraded(nb, source=source) if upgrade else nb


def major_version(nb: Mapping[str, Any]) -> int:
    """The notebook's nbformat major version.

    Without an ``nbformat`` key the layout decides, as nbstripout's reading does in effect: a
    top-level ``cells`` list is nbformat 4, ``worksheets`` nbformat 3. (nbformat itself would take
    such a file for nbformat 1 and drop every cell's source.)
    """
    version = nb.get("nbformat")
    if version is None:
        return 3 if "worksheets" in nb and "cells" not in nb else 4
    if isinstance(version, float) and version.is_integer():
        return int(version)  # 4.0: nbformat looks versions up in a dict, where 4.0 == 4
    return version if isinstance(version, int) and not isinstance(version, bool) else -1


def structure_problem(nb: Any) -> str | None:
    """Why ``nb`` is not a usable notebook (nbformat 1-4, as stored), or None."""
    if not isinstance(nb, dict):
        return "the top level is not a JSON object"
    version = major_version(nb)
    if not 1 <= version <= 4:
        return (
            f"nbformat {nb.get('nbformat')!r} is not supported (nbformat 1 to 4 are; a newer "
            "notebook needs a newer mlops-nb)"
        )
    if version < 4:
        return _old_structure_problem(nb)
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return "it has no 'cells' list"
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return f"cell {i + 1} has no valid 'cell_type'"
        if not isinstance(cell.get("source"), (str, list)):
            return f"cell {i + 1} has no 'source'"
        if cell["cell_type"] == "code" and not isinstance(cell.get("outputs"), list):
            return f"code cell {i + 1} has no 'outputs' list"
    return None


def _old_structure_problem(nb: Mapping[str, Any]) -> str | None:
    if nb.get("nbformat") == 1:
        ok = isinstance(nb.get("cells"), list)
        return None if ok else "it has no 'cells' list"
    sheets = nb.get("worksheets")
    if not isinstance(sheets, list) or not all(
        isinstance(ws, dict) and isinstance(ws.get("cells", []), list) for ws in sheets
    ):
        return "it has no 'worksheets' list of cells"
    for ws in sheets:
        for cell in ws.get("cells", []):
            if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
                return "a cell has no valid 'cell_type'"
    return None


def cell_lists(nb: Mapping[str, Any]) -> list[list[Any]]:
    """The notebook's lists of cells: one in nbformat 4, one per worksheet in nbformat 2/3."""
    if major_version(nb) >= 4 or nb.get("nbformat") == 1:
        return [nb["cells"]]
    return [ws.get("cells", []) for ws in nb["worksheets"]]


def upgraded(nb: dict[str, Any], *, source: str) -> dict[str, Any]:
    """``nb`` as nbformat 4 (the same object when it is already), as Jupyter and papermill read
    it: nbformat's own converter (``nbformat.convert``). New cell ids are random, as there."""
    if nb.get("nbformat") == 4 and type(nb["nbformat"]) is int:
        return nb
    if major_version(nb) == 4:  # no nbformat key (nbformat 4 layout), or 4.0
        return {**nb, "nbformat": 4, "nbformat_minor": nb.get("nbformat_minor", 0)}
    import nbformat

    reads: Callable[..., Any] = nbformat.reads  # untyped
    try:
        node = reads(json.dumps({"nbformat": 3, **nb}), as_version=4)
    except Exception as e:  # nbformat raises many kinds on malformed old notebooks
        raise NotebookError(
            f"{source}: cannot read this nbformat {nb.get('nbformat', 3)} notebook "
            f"({type(e).__name__}: {e}). Open and save it in Jupyter to upgrade it."
        ) from None
    out: dict[str, Any] = json.loads(json.dumps(node))
    problem = structure_problem(out)
    if problem:
        raise NotebookError(f"{source}: not a valid notebook after upgrading it: {problem}.")
    return out


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


def atomic_write_text(
    path: str | os.PathLike[str],
    text: str | bytes,
    *,
    fsync: bool = False,
    mode: int | None = None,
) -> None:
    """Write a file atomically: a temp file in the same folder, then ``os.replace``.

    The file gets the mode a plain ``open(path, "w")`` gives (0o666 less the umask, which the
    kernel applies at creation), or ``mode`` when given; ``tempfile.mkstemp`` would make it 0600
    and hide it from the other users of a shared runs folder.

    Links are written through, as ``open(path, "w")`` and nbstripout do: a symbolic link's target
    is replaced (the link stays), and a file with several hard links is rewritten in place once
    the new text is safely in the temp file (replacing it would leave its other names with the
    old text). Text is written as UTF-8, bytes as they are. Raises ``OSError``.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    p = Path(os.path.realpath(path))
    tmp = p.parent / f".{p.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if _hard_linked(p):
            shutil.copyfile(tmp, p)
            os.unlink(tmp)
        else:
            os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _hard_linked(path: Path) -> bool:
    try:
        return path.stat().st_nlink > 1
    except OSError:
        return False


def write_json_notebook(path: str | os.PathLike[str], nb: Mapping[str, Any]) -> None:
    """Write a notebook the way nbformat does (indent 1, sorted keys, trailing newline)."""
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)


STDOUT = "-"


def write_user_file(
    path: str | os.PathLike[str], data: str | bytes, *, mode: int | None = None
) -> None:
    """Write a file the user named (``-o FILE``): text as UTF-8, bytes as they are.

    ``-`` is standard output. A target that exists and is not a regular file (a FIFO, a
    character device such as ``/dev/null``, ``/dev/stdout``) is opened and written in place,
    as ``open(path, "w")`` does: the atomic write's rename would put a regular file in its
    place (as root, ``-o /dev/null`` would replace the device for the whole machine), and
    ``/dev/stdout`` resolves to a pipe that has no name to write a temp file beside. Anything
    else is written atomically (``atomic_write_text``), with ``mode`` when given. Raises
    ``OSError``.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if os.fspath(path) == STDOUT or _is_stdout(path):
        from mlops_nb import output

        output.out_bytes(raw)
    elif _special(path):
        with open(path, "wb") as f:
            f.write(raw)
    else:
        atomic_write_text(path, raw, mode=mode)


def _is_stdout(path: str | os.PathLike[str]) -> bool:
    """``path`` is this process's standard output (``/dev/stdout``, ``/dev/fd/1``, or the file
    stdout was redirected to): written through it, as ``-`` is. Opening it anew would start at
    offset 0 and truncate what the command printed there, or what ``>>`` kept."""
    try:
        target, out = os.stat(path), os.fstat(1)
    except OSError:
        return False
    return (target.st_dev, target.st_ino) == (out.st_dev, out.st_ino)


def _special(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` exists and is neither a regular file nor a folder, or names an open
    file (``/dev/stdout``, ``/dev/fd/N``, ``/proc/self/fd/N``: ``>> log`` must be appended to,
    not replaced)."""
    if os.path.abspath(path).startswith(("/dev/", "/proc/")):
        return True
    try:
        kind = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(kind) or stat.S_ISDIR(kind))


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Around writing a file the user named (``-o``): a path that names a folder (an existing
    one, or ending in ``/``) is refused, the missing parent folders are made first (as
    ``pipeline export``, ``env export`` and ``new`` do), and an OSError becomes a one-line
    UsageError (a parent that is a file is named as such)."""
    text = os.fspath(path)
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        raise UsageError(f"{text} is a folder: give the file to write (e.g. {Path(text) / 'out'}).")
    try:
        for parent in reversed(Path(text).parents):
            if parent.exists() and not parent.is_dir():
                raise UsageError(f"cannot write {text}: {parent} is a file, not a folder.")
        Path(text).parent.mkdir(parents=True, exist_ok=True)
        yield
    except OSError as e:
        raise UsageError(
            f"cannot write {text}: {e.strerror or e}. Check that its folder is writable."
        ) from None
