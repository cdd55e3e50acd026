"""Which files a command looks at: notebooks named, or found under folders named."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

# Hidden folders (.ipynb_checkpoints, .git, .venv...) and caches never hold notebooks to check.
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages"}


def _skip(name: str) -> bool:
    return name.startswith(".") or name in _SKIP_DIRS


def iter_notebook_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named (whatever their extension), and ``*.ipynb`` files under folders named.

    A path that does not exist is yielded too, so the caller reports it as unreadable.
    A file reached twice (named twice, through a symbolic link and its target, or by two hard
    links) is yielded once, under the first name it was reached by.
    """
    seen: set[object] = set()
    for raw in paths:
        p = Path(raw)
        found = _walk(p) if p.is_dir() else iter([p])
        for f in found:
            key = _identity(f)
            if key not in seen:
                seen.add(key)
                yield f


def _walk(folder: Path) -> Iterator[Path]:
    """``*.ipynb`` under ``folder``, following linked folders (each real folder once: no loops)."""
    visited: set[str] = set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
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
