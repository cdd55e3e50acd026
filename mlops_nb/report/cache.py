"""The report's cache: each section's drawn HTML (figures included) and summary, kept in the runs
folder (``<runs dir>/.cache/report/``) under a key made of everything the section's HTML depends
on: this package's code, the section's fingerprint (its runs and their records' modification
times, ``outline.Outline``), the report's options and the page's folder. A page whose sections
have not changed is assembled from the cache without reading a run or importing pandas or
matplotlib; a section whose runs changed is drawn anew. Like make's and DVC's run cache, it
trusts modification times: a ``run.json`` edited with its old time kept is not seen.

Entries are JSON files written atomically (a reader never sees half an entry) with the mode any
file of the store gets (the umask's); an unreadable
entry is a miss. A store that cannot be written (read-only, full disk) still gets its report:
the cache is skipped. At most ``MAX_ENTRIES`` are kept, the least recently used go first.
``mlops-nb report --no-cache`` (``build_report(cache=False)``) neither reads nor writes it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from mlops_nb.notebook.io import atomic_write_text

CACHE_DIR = (".cache", "report")
MAX_ENTRIES = 1000  # about 30 KiB a summary, up to a few 100 KiB a section with its figures


@functools.cache
def code_version() -> str:
    """This package's version and the size and time of each of its modules (an edited module
    in a development checkout is new code)."""
    import mlops_nb

    root = Path(mlops_nb.__file__).parent
    parts = [mlops_nb.__version__]
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                parts.append(
                    f"{os.path.relpath(folder, root)}/{name}:{st.st_size}:{st.st_mtime_ns}"
                )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def key(*parts: Any) -> str:
    """The entry name for ``parts`` (JSON-able values; the code version is added)."""
    text = json.dumps([code_version(), *parts], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class Cache:
    """Entries of one runs folder (``enabled=False``: none, every ``get`` misses)."""

    def __init__(self, runs_dir: Path, *, enabled: bool = True) -> None:
        self.folder = runs_dir.joinpath(*CACHE_DIR)
        self.enabled = enabled
        self._writable = enabled
        self._counted = False

    def get(self, name: str) -> Any:
        """The entry ``name``, or None (absent, unreadable, or the cache is off)."""
        if not self.enabled:
            return None
        path = self.folder / f"{name}.json"
        try:
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
        entries = [e for e in os.scandir(self.folder) if e.name.endswith(".json")]
        if len(entries) < MAX_ENTRIES:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in entries[: len(entries) - MAX_ENTRIES * 3 // 4]:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
