"""The report's cache: each section's drawn HTML (figures included) and summary, kept per user in
``$XDG_CACHE_HOME/mlops-nb/report/<store>/`` (default ``~/.cache``; ``<store>``: a digest of the
runs folder's real path) under a key made of everything the section's HTML depends on: this
package's code and the plotting libraries' versions, the section's fingerprint (its runs, their
statuses and their records' modification times, ``outline.Outline``), which runs the page covers
(the filters), the report's options and the page's folder. A page whose sections have not
changed is assembled from the cache without reading a run or importing pandas or matplotlib; a
section whose runs changed is drawn anew. Like make's and DVC's run cache, it trusts
modification times.

The cache is the user's own, like pip's and pre-commit's: nobody else can put HTML into one's
pages through it (a store shared by a team may be writable by all), and a read-only store still
has one. Entries are JSON files written atomically (a reader never sees half an entry); one that
is not a regular file, cannot be read or has the wrong shape is a miss. At most ``MAX_ENTRIES``
are kept per store, the least recently used go first. ``mlops-nb report --no-cache``
(``build_report(cache=False)``) neither reads nor writes it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

from mlops_nb.notebook.io import atomic_write_text

_LIBRARIES = ("matplotlib", "seaborn", "pandas", "numpy")  # what draws the figures and tables
MAX_ENTRIES = 1000  # about 30 KiB a summary, up to a few 100 KiB a section with its figures


@functools.cache
def code_version() -> str:
    """This package's version, the plotting libraries' installed files (the path, size and time
    of each one's ``__init__.py``: an install or upgrade writes it anew; reading their versions
    with ``importlib.metadata`` cost ~40 ms of every page), and the size and time of each of
    this package's modules (an edited module in a development checkout is new code)."""
    import importlib.util

    import mlops_nb

    root = Path(mlops_nb.__file__).parent
    parts = [mlops_nb.__version__]
    for lib in _LIBRARIES:
        try:
            spec = importlib.util.find_spec(lib)
            origin = spec.origin if spec else None
            st = os.stat(origin) if origin else None
        except (ImportError, ValueError, OSError):
            st = None
        parts.append(f"{lib} {origin}:{st.st_size}:{st.st_mtime_ns}" if st else f"{lib} -")
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                parts.append(
                    f"{os.path.relpath(folder, root)}/{name}:{st.st_size}:{st.st_mtime_ns}"
                )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def folder(runs_dir: Path) -> Path:
    """This user's cache folder for the store ``runs_dir``."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    store = hashlib.sha256(os.path.realpath(runs_dir).encode()).hexdigest()[:24]
    return base / "mlops-nb" / "report" / store


def key(*parts: Any) -> str:
    """The entry name for ``parts`` (JSON-able values; the code version is added)."""
    text = json.dumps([code_version(), *parts], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class Cache:
    """Entries of one runs folder (``enabled=False``: none, every ``get`` misses)."""

    def __init__(self, runs_dir: Path, *, enabled: bool = True) -> None:
        self.folder = folder(runs_dir)
        self.enabled = enabled
        self._writable = enabled
        self._counted = False

    def key(self, *parts: Any) -> str:
        """The entry name for ``parts`` (module ``key``); none is worked out when the cache is
        off (nothing is read or written under it)."""
        return key(*parts) if self.enabled else ""

    def get(self, name: str) -> Any:
        """The entry ``name``, or None (absent, not a regular file, unreadable, or the cache is
        off); callers check its shape."""
        if not self.enabled:
            return None
        path = self.folder / f"{name}.json"
        try:
            if not stat.S_ISREG(path.lstat().st_mode):  # a FIFO would block, a link lead away
                return None
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used
        return value

    def put(self, name: str, value: Any) -> None:
        """Keep ``value`` as ``name``; a folder that cannot be written turns the cache off."""
        if not self._writable:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._prune()
            atomic_write_text(self.folder / f"{name}.json", json.dumps(value))
        except (OSError, TypeError, ValueError):
            self._writable = False

    def _prune(self) -> None:
        """Once per page: past ``MAX_ENTRIES``, drop the least recently used quarter."""
        if self._counted:
            return
        self._counted = True
        entries, stale = [], time.time() - 3600
        for entry in os.scandir(self.folder):
            if not entry.is_file(follow_symlinks=False):
                continue
            if entry.name.endswith(".json"):
                entries.append(entry)
            elif entry.name.endswith(".tmp") and entry.stat().st_mtime < stale:
                with contextlib.suppress(OSError):  # left by a report that was killed
                    os.unlink(entry.path)
        if len(entries) < MAX_ENTRIES:
            return
        entries.sort(key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns)
        for entry in entries[: len(entries) - MAX_ENTRIES * 3 // 4]:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
