"""The git adapter: commit, branch and dirty state of the repository holding a path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any


def _git(cwd: Path, *args: str, strip: bool = True) -> str | None:
    """What ``git ARGS`` printed (``strip``: without surrounding blanks), or None when git
    failed, is missing or hung (10 s). ``--no-optional-locks``: reading never writes the index
    (runs of a sweep read the same repository at once)."""
    try:
        proc = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=cwd,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    out = proc.stdout.decode("utf-8", "replace")
    return out.strip() if strip else out


def git_info(path: Path, *, store: Path | None = None) -> dict[str, Any] | None:
    """``{"commit", "branch", "dirty", "root"}`` of the repository holding ``path`` (commit None
    before the first commit, branch None when detached, dirty None when git status failed), or
    None outside a repository.

    Two ``git`` processes (one outside a repository): ``rev-parse --show-toplevel``, then
    ``status --porcelain=v2 --branch -z``, whose ``# branch.oid`` / ``# branch.head`` headers
    give the commit and branch (git-status(1), "Porcelain Format Version 2").

    ``store``: the runs folder. What changed inside it does not make the repository dirty: the
    runs themselves would otherwise mark every later run dirty where the store is not ignored."""
    cwd = path if path.is_dir() else path.parent
    if not _may_be_in_a_repository(cwd):
        return None
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if top is None:
        return None
    # -z: paths as they are (relative to the top, never quoted), one entry per NUL
    status = _git(
        cwd, "status", "--porcelain=v2", "--branch", "--no-ahead-behind", "-z", strip=False
    )
    if status is None:
        head = _git(cwd, "rev-parse", "--verify", "-q", "HEAD")
        branch = _git(cwd, "symbolic-ref", "--short", "-q", "HEAD")
        return {"commit": head, "branch": branch, "dirty": None, "root": top}
    headers, paths = _parse_status(status)
    oid, head_name = headers.get("branch.oid"), headers.get("branch.head")
    return {
        "commit": None if oid in (None, "(initial)") else oid,
        "branch": None if head_name in (None, "(detached)") else head_name,
        "dirty": _changed(paths, _inside(store, top)),
        "root": top,
    }


def _may_be_in_a_repository(cwd: Path) -> bool:
    """False when git could not find a repository from ``cwd``: no ``GIT_DIR`` in the
    environment and no ``.git`` (a folder, or a file for worktrees and submodules) in ``cwd`` or
    any folder above it (gitrepository-layout(5)). Spares the failing ``git`` process a run."""
    if os.environ.get("GIT_DIR"):
        return True
    for here in {cwd.absolute(), cwd.resolve()}:  # git walks up from the folder's real path
        if any(os.path.lexists(d / ".git") for d in (here, *here.parents)):
            return True
    return False


def _parse_status(status: str) -> tuple[dict[str, str], list[str]]:
    """The ``# key value`` headers and the changed paths of ``git status --porcelain=v2 -z``.

    Entries: ``1 XY sub mH mI mW hH hI PATH`` (changed), ``2 ... Xscore PATH`` followed by the
    source path as its own entry (renamed or copied), ``u ... h1 h2 h3 PATH`` (unmerged),
    ``? PATH`` (untracked); a path may hold spaces, so only the fixed fields are split off."""
    headers: dict[str, str] = {}
    paths: list[str] = []
    fields = {"1": 8, "2": 9, "u": 10, "?": 1, "!": 1}
    entries = iter(status.split("\0"))
    for entry in entries:
        kind = entry[:1]
        if kind == "#":
            key, _, value = entry[2:].partition(" ")
            headers[key] = value
        elif kind in fields:
            paths.append(entry.split(" ", fields[kind])[-1])
            if kind == "2":
                next(entries, None)  # the source path of the rename or copy
    return headers, paths


def _inside(store: Path | None, top: str) -> str | None:
    """``store`` relative to the repository's top, '/'-separated; None when outside it."""
    if store is None:
        return None
    try:
        rel = store.resolve().relative_to(Path(top).resolve())
    except ValueError:
        return None
    return rel.as_posix() if rel.parts else None


def _changed(paths: list[str], store: str | None) -> bool:
    """Whether any of ``paths`` (relative to the repository's top) lies outside ``store``."""
    if store is None:
        return bool(paths)
    return any(p.rstrip("/") != store and not p.startswith(store + "/") for p in paths)
