"""The git adapter: commit, branch and dirty state of the repository holding a path."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any


def _git(cwd: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def git_info(path: Path) -> dict[str, Any] | None:
    """``{"commit", "branch", "dirty"}`` for the repository holding ``path``, or None outside one."""
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


def file_at_commit(repo: Path, commit: str, relpath: str) -> bytes | None:
    try:
        proc = subprocess.run(
            ["git", "show", f"{commit}:{relpath}"],
            cwd=repo,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None
