"""The git adapter: commit, branch and dirty state of the repository holding a path."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any


def _git(cwd: Path, *args: str, strip: bool = True) -> str | None:
    """What ``git ARGS`` printed (``strip``: without surrounding blanks), or None when git
    failed, is missing or hung (10 s)."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    out = proc.stdout.decode("utf-8", "replace")
    return out.strip() if strip else out


def git_info(path: Path, *, store: Path | None = None) -> dict[str, Any] | None:
    """``{"commit", "branch", "dirty", "root"}`` of the repository holding ``path`` (commit None
    before the first commit, dirty None when git status failed), or None outside a repository.

    ``store``: the runs folder. What changed inside it does not make the repository dirty: the
    runs themselves would otherwise mark every later run dirty where the store is not ignored."""
    cwd = path if path.is_dir() else path.parent
    head = _git(cwd, "rev-parse", "--verify", "-q", "HEAD")
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if top is None:
        return None
    branch = _git(cwd, "symbolic-ref", "--short", "-q", "HEAD")
    # -z: paths as they are (relative to the top, never quoted), one entry per NUL
    status = _git(cwd, "status", "--porcelain", "-z", strip=False)
    return {
        "commit": head,
        "branch": branch,
        "dirty": _changed(status, _inside(store, top)) if status is not None else None,
        "root": top,
    }


def _inside(store: Path | None, top: str) -> str | None:
    """``store`` relative to the repository's top, '/'-separated; None when outside it."""
    if store is None:
        return None
    try:
        rel = store.resolve().relative_to(Path(top).resolve())
    except ValueError:
        return None
    return rel.as_posix() if rel.parts else None


def _changed(status: str, store: str | None) -> bool:
    """Whether ``git status --porcelain -z`` lists a change outside ``store``."""
    entries = [e for e in status.split("\0") if e]
    paths, skip = [], False
    for entry in entries:
        if skip:  # the source path of a rename or copy
            skip = False
            continue
        paths.append(entry[3:])
        skip = entry[:1] in ("R", "C") or entry[1:2] in ("R", "C")
    if store is None:
        return bool(paths)
    return any(p.rstrip("/") != store and not p.startswith(store + "/") for p in paths)
