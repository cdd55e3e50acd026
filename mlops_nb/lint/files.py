"""Which files a command looks at: notebooks named, or found under folders named."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from mlops_nb.errors import UsageError
from mlops_nb.lint.records import Records, skip_note

# Hidden folders (.ipynb_checkpoints, .git, .venv...) and caches never hold notebooks to check.
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages"}


def _skip(name: str) -> bool:
    return name.startswith(".") or name in _SKIP_DIRS


def iter_notebook_paths(
    paths: Iterable[str | os.PathLike[str]], *, skipped: list[str] | None = None
) -> Iterator[Path]:
    """Files named (whatever their extension), and ``*.ipynb`` files under folders named.

    A path that does not exist is yielded too, so the caller reports it as unreadable.
    Runs stores are never walked, nor run folders (``lint.records``): their notebooks are the
    runs' records (scraps, figures), not notebooks to clean. A folder named that is a store, a
    run folder or lies in one raises ``UsageError``; a file named that lies in one is left out,
    with a note appended to ``skipped`` (pre-commit passes every tracked notebook, those of a
    committed ``runs/`` folder too).
    A file reached twice (named twice, through a symbolic link and its target, or by two hard
    links) is yielded once, under the first name it was reached by.
    """
    named = [Path(_nonempty(raw)) for raw in paths]
    records = Records()
    for p in named:
        if p.is_dir():
            _refuse_a_record(p, records)
    seen: set[object] = set()
    for p in named:
        found = _walk(p, records) if p.is_dir() else _unless_recorded(p, records, skipped)
        for f in found:
            key = _identity(f)
            if key not in seen:
                seen.add(key)
                yield f


def _nonempty(raw: str | os.PathLike[str]) -> str | os.PathLike[str]:
    if os.fspath(raw) == "":  # Path("") is ".": it would walk the current folder
        raise UsageError("an empty PATH ('') names no notebook or folder; give one (. for here).")
    return raw


def _refuse_a_record(folder: Path, records: Records) -> None:
    if records.is_store(folder):
        raise UsageError(
            f"{folder} is a runs store: its output notebooks are the runs' records, not "
            "notebooks to check or strip. Name the notebooks you mean, or a folder without "
            "the store."
        )
    holder = records.holder(folder)
    if holder is not None:
        where = "is" if Path(os.path.realpath(folder)) == holder else "is in"
        raise UsageError(
            f"{folder} {where} {records.describe(holder)}: a recorded run's notebooks are its "
            "results, kept as they ran, not notebooks to check or strip. Name the notebooks "
            "you mean (a copy of a run's notebook made elsewhere can be stripped)."
        )


def _unless_recorded(path: Path, records: Records, skipped: list[str] | None) -> Iterator[Path]:
    holder = records.holder(path) if path.exists() else None
    if holder is None:
        yield path
    elif skipped is not None:
        skipped.append(skip_note(path, records.describe(holder)))


def _walk(folder: Path, records: Records) -> Iterator[Path]:
    """``*.ipynb`` under ``folder``, following linked folders (each real folder once: no loops),
    leaving out runs stores and run folders."""
    visited: set[str] = set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
        # not the top: a named store was refused
        if records.is_store(Path(root), (dirs, files), real) or records.is_run_folder(
            Path(root), files
        ):
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not _skip(d))
        for name in sorted(files):
            if name.endswith(".ipynb"):
                yield Path(root) / name


def _identity(path: Path) -> object:
    """The file itself (device, inode) when it exists, else its resolved path."""
    try:
        st = path.stat()
    except OSError:
        return os.path.realpath(path)
    return (st.st_dev, st.st_ino)
