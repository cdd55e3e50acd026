"""Which files a command looks at: notebooks named, or found under folders named."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from mlops_nb.errors import UsageError
from mlops_nb.store.place import default_runs_dir
from mlops_nb.store.runs import INDEX, RECORD, is_run_id

# Hidden folders (.ipynb_checkpoints, .git, .venv...) and caches never hold notebooks to check.
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages"}


def _skip(name: str) -> bool:
    return name.startswith(".") or name in _SKIP_DIRS


def iter_notebook_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named (whatever their extension), and ``*.ipynb`` files under folders named.

    A path that does not exist is yielded too, so the caller reports it as unreadable.
    Runs stores are never walked: their ``output.ipynb`` files are the runs' records (scraps,
    figures), not notebooks to clean. A store is the configured one (``$MLOPS_NB_RUNS_DIR``,
    else ``./runs``) or any folder that holds the runs index or a run folder (``<run id>/run.json``).
    A folder named that is a store raises ``UsageError``; a notebook named inside one is
    processed, as nbstripout would (pre-commit passes only the files git tracks).
    A file reached twice (named twice, through a symbolic link and its target, or by two hard
    links) is yielded once, under the first name it was reached by.
    """
    named = [Path(raw) for raw in paths]
    stores = _configured_store()
    for p in named:
        if p.is_dir() and _is_store(p, stores):
            raise UsageError(
                f"{p} is a runs store: its output notebooks are the runs' records, not notebooks "
                "to check or strip. Name the notebooks you mean, or a folder without the store."
            )
    seen: set[object] = set()
    for p in named:
        found = _walk(p, stores) if p.is_dir() else iter([p])
        for f in found:
            key = _identity(f)
            if key not in seen:
                seen.add(key)
                yield f


def _configured_store() -> set[str]:
    return {os.path.realpath(default_runs_dir())}


def _is_store(
    folder: Path,
    configured: set[str],
    listing: tuple[list[str], list[str]] | None = None,
    real: str = "",
) -> bool:
    """True for the configured runs store and any folder with a runs store's marks: the index,
    or a run folder (a run id holding ``run.json``). ``listing``: the folder's ``(subfolders,
    files)`` and ``real`` its resolved path, when known (``os.walk``: no extra system call)."""
    if (real or os.path.realpath(folder)) in configured:
        return True
    if listing is None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return False
        listing = ([e.name for e in entries if e.is_dir()], [e.name for e in entries])
    dirs, files = listing
    return INDEX in files or any(is_run_id(n) and os.path.isfile(folder / n / RECORD) for n in dirs)


def _walk(folder: Path, stores: set[str]) -> Iterator[Path]:
    """``*.ipynb`` under ``folder``, following linked folders (each real folder once: no loops),
    leaving out runs stores."""
    visited: set[str] = set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
        if _is_store(
            Path(root), stores, (dirs, files), real
        ):  # not the top: a named store was refused
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
