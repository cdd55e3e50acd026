"""Which paths belong to a runs store: the runs' records, never notebooks to lint or strip.

A run's ``output.ipynb`` holds its scraps, figures and logs, and its folder's other files are
hashed in ``run.json`` (artifacts): stripping them erases the record, and linting a failed run's
notebook fails a commit for a file nobody edits. A repository may commit its ``runs/`` folder,
and pre-commit then passes those notebooks to the hooks, so the hooks leave them out whatever
path they come by (the manifest's ``exclude`` catches the usual layout before that).

Marks, checked on the path's folder and each folder above it:
- the configured store (``$MLOPS_NB_RUNS_DIR``, else ``./runs``);
- a run folder: one holding ``run.json``, named by a run id or holding a run record (a JSON
  object with ``id`` and ``status``: a run folder copied elsewhere under another name);
- when walking folders, a store found by its marks: the runs index, or a run folder inside.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from pathlib import Path

from mlops_nb.store.place import default_runs_dir
from mlops_nb.store.runs import INDEX, RECORD, is_run_id


class Records:
    """Answers "is this a runs store's record?" for one command, caching each folder's answer."""

    def __init__(self) -> None:
        self._configured = os.path.realpath(default_runs_dir())
        self._run_folders: dict[str, bool] = {}
        self._holders: dict[str, Path | None] = {}

    def is_store(
        self, folder: Path, listing: tuple[list[str], list[str]] | None = None, real: str = ""
    ) -> bool:
        """True for the configured store and any folder with a store's marks: the index, or a
        run folder. ``listing``: the folder's ``(subfolders, files)`` and ``real`` its resolved
        path, when known (``os.walk``: no extra system call)."""
        if (real or os.path.realpath(folder)) == self._configured:
            return True
        if listing is None:
            try:
                entries = list(os.scandir(folder))
            except OSError:
                return False
            listing = ([e.name for e in entries if e.is_dir()], [e.name for e in entries])
        dirs, files = listing
        return INDEX in files or any(
            is_run_id(n) and os.path.isfile(folder / n / RECORD) for n in dirs
        )

    def is_run_folder(self, folder: Path, files: Collection[str] | None = None) -> bool:
        """``folder`` holds a run's record (``files``: its file names, when known)."""
        if files is not None and RECORD not in files:
            return False
        return self._holds_record(os.path.realpath(folder))

    def _holds_record(self, real: str) -> bool:
        known = self._run_folders.get(real)
        if known is None:
            known = self._run_folders[real] = _holds_record(Path(real))
        return known

    def holder(self, path: Path) -> Path | None:
        """The run folder or configured store that ``path`` (a file or folder) lies in, the
        folder itself included; None outside any. Follows links: the file a write would change
        is the one that counts. Each folder is resolved once (pre-commit names many files of
        few folders)."""
        if path.is_symlink():
            path = Path(os.path.realpath(path))
        folder = os.fspath(path if path.is_dir() else path.parent)
        if folder not in self._holders:
            real = Path(os.path.realpath(folder))
            self._holders[folder] = next(
                (f for f in (real, *real.parents) if self._is_holder(str(f))), None
            )
        return self._holders[folder]

    def _is_holder(self, real: str) -> bool:
        return real == self._configured or self._holds_record(real)

    def describe(self, holder: Path) -> str:
        """``holder`` (from ``holder``) for a message: the runs store or the run folder."""
        kind = "the runs store" if str(holder) == self._configured else "the run folder"
        return f"{kind} {holder}"


def _holds_record(folder: Path) -> bool:
    record = folder / RECORD
    if not record.is_file():
        return False
    if is_run_id(folder.name):
        return True
    try:
        with open(record, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "id" in data and "status" in data


def skip_note(path: Path, holder: str) -> str:
    """The line that says why a named file was left alone (``holder``: ``Records.describe``)."""
    return (
        f"{path}: skipped: it is in {holder}; a recorded run's notebooks are its results, kept "
        "as they ran (a copy made elsewhere can be linted and stripped)."
    )
