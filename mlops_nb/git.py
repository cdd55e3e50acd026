"""The git adapter: commit, branch and dirty state of the repository holding a path."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any


def _git(cwd: Path, *args: str) -> str | None:
    """What ``git ARGS`` printed, or None when git failed, is missing or hung (10 s)."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else None


def git_info(path: Path) -> dict[str, Any] | None:
    """``{"commit", "branch", "dirty", "root"}`` of the repository holding ``path`` (commit None
    before the first commit, dirty None when git status failed), or None outside a repository."""
    cwd = path if path.is_dir() else path.parent
    head = _git(cwd, "rev-parse", "--verify", "-q", "HEAD")
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if top is None:
        return None
    branch = _git(cwd, "symbolic-ref", "--short", "-q", "HEAD")
    status = _git(cwd, "status", "--porcelain")
    return {
        "commit": head,
        "branch": branch,
        "dirty": bool(status) if status is not None else None,
        "root": top,
    }
