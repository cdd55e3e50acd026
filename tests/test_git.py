"""The git adapter on real repositories: what a run records of the code's version."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlops_nb.git import git_info

pytestmark = pytest.mark.git


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_fresh_repository_has_no_commit_yet(git_repo: Path) -> None:
    nb = git_repo / "a.ipynb"
    nb.write_text("{}", encoding="utf-8")
    info = git_info(nb)
    assert info == {"commit": None, "branch": "main", "dirty": True, "root": str(git_repo)}


def test_commit_branch_and_dirty_state(git_repo: Path) -> None:
    nb = git_repo / "nbs" / "a.ipynb"
    nb.parent.mkdir()
    nb.write_text("{}", encoding="utf-8")
    _git(git_repo, "add", ".")
    _git(git_repo, "commit", "-qm", "first")
    head = _git(git_repo, "rev-parse", "HEAD")
    assert git_info(nb) == {"commit": head, "branch": "main", "dirty": False, "root": str(git_repo)}
    assert git_info(nb.parent) == git_info(nb)  # a folder is looked up as itself
    nb.write_text('{"changed": 1}', encoding="utf-8")
    assert git_info(nb)["dirty"] is True  # type: ignore[index]
    _git(git_repo, "checkout", "-q", "--detach")
    detached = git_info(nb)
    assert detached is not None
    assert (detached["commit"], detached["branch"]) == (head, None)


def test_outside_a_repository_there_is_nothing_to_record(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "a.ipynb").write_text("{}", encoding="utf-8")
    assert git_info(loose / "a.ipynb") is None


def test_without_git_installed_nothing_is_recorded(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(git_repo / "no-bin-here"))
    assert git_info(git_repo) is None
