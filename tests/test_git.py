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


def test_changes_inside_the_runs_store_do_not_make_the_repository_dirty(git_repo: Path) -> None:
    nb = git_repo / "a.ipynb"
    nb.write_text("{}", encoding="utf-8")
    _git(git_repo, "add", ".")
    _git(git_repo, "commit", "-qm", "first")
    store = git_repo / "runs"
    (store / "r1").mkdir(parents=True)
    (store / "r1" / "run.json").write_text("{}", encoding="utf-8")
    assert git_info(nb)["dirty"] is True  # type: ignore[index]
    assert git_info(nb, store=store)["dirty"] is False  # type: ignore[index]
    # a store partly tracked: its own changes still do not count
    _git(git_repo, "add", "runs")
    _git(git_repo, "commit", "-qm", "runs")
    (store / "r1" / "run.json").write_text('{"x": 1}', encoding="utf-8")
    (store / "r2").mkdir()
    (store / "r2" / "run.json").write_text("{}", encoding="utf-8")
    assert git_info(nb, store=store)["dirty"] is False  # type: ignore[index]
    # a folder whose name starts like the store's is not the store
    (git_repo / "runs-old").mkdir()
    (git_repo / "runs-old" / "x").write_text("x", encoding="utf-8")
    assert git_info(nb, store=store)["dirty"] is True  # type: ignore[index]


def test_a_rename_outside_the_store_is_a_change_and_one_inside_is_not(git_repo: Path) -> None:
    store = git_repo / "runs"
    store.mkdir()
    (store / "old.json").write_text("{}", encoding="utf-8")
    (git_repo / "a.txt").write_text("a", encoding="utf-8")
    _git(git_repo, "add", ".")
    _git(git_repo, "commit", "-qm", "first")
    _git(git_repo, "mv", "runs/old.json", "runs/new.json")
    assert git_info(git_repo, store=store)["dirty"] is False  # type: ignore[index]
    _git(git_repo, "mv", "a.txt", "b.txt")
    assert git_info(git_repo, store=store)["dirty"] is True  # type: ignore[index]
    # a store outside the repository changes nothing
    assert git_info(git_repo, store=git_repo.parent / "elsewhere")["dirty"] is True  # type: ignore[index]


def test_a_run_records_a_clean_repository_though_its_store_is_in_it(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_nb import run
    from tests import nbbuild as b

    monkeypatch.chdir(git_repo)
    nb = b.write(git_repo / "nb.ipynb", b.params("x = 1"), b.code("y = x"))
    _git(git_repo, "add", ".")
    _git(git_repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "nb")
    first = run(nb, runs_dir=git_repo / "runs")
    second = run(nb, runs_dir=git_repo / "runs")
    assert [r.record["git"]["dirty"] for r in (first, second)] == [False, False]


def test_paths_are_read_from_the_top_whatever_folder_the_notebook_is_in(git_repo: Path) -> None:
    nb = git_repo / "deep er" / "nb s" / "a.ipynb"
    nb.parent.mkdir(parents=True)
    nb.write_text("{}", encoding="utf-8")
    (git_repo / "runs").mkdir()
    _git(git_repo, "add", ".")
    _git(git_repo, "commit", "-qm", "first")
    (git_repo / "runs" / "r 1").mkdir()
    (git_repo / "runs" / "r 1" / "run.json").write_text("{}", encoding="utf-8")
    assert git_info(nb, store=git_repo / "runs")["dirty"] is False  # type: ignore[index]
    # a changed file whose name holds spaces, next to the notebook, is a change
    (nb.parent / "helper mod.py").write_text("x = 1\n", encoding="utf-8")
    assert git_info(nb, store=git_repo / "runs")["dirty"] is True  # type: ignore[index]


def test_a_file_in_conflict_is_a_change(git_repo: Path) -> None:
    f = git_repo / "a.txt"
    f.write_text("base\n", encoding="utf-8")
    _git(git_repo, "add", ".")
    _git(git_repo, "commit", "-qm", "base")
    _git(git_repo, "checkout", "-qb", "other")
    f.write_text("other\n", encoding="utf-8")
    _git(git_repo, "commit", "-qam", "other")
    _git(git_repo, "checkout", "-q", "main")
    f.write_text("main\n", encoding="utf-8")
    _git(git_repo, "commit", "-qam", "main")
    merged = subprocess.run(["git", "merge", "-q", "other"], cwd=git_repo, capture_output=True)
    assert merged.returncode != 0  # the conflict is there
    info = git_info(git_repo, store=git_repo / "runs")
    assert info is not None
    assert (info["branch"], info["dirty"]) == ("main", True)


def test_a_status_git_cannot_read_leaves_dirty_unknown_and_keeps_the_commit(git_repo: Path) -> None:
    (git_repo / "a.txt").write_text("a", encoding="utf-8")
    _git(git_repo, "add", ".")
    _git(git_repo, "commit", "-qm", "first")
    head = _git(git_repo, "rev-parse", "HEAD")
    (git_repo / ".git" / "index").write_bytes(b"not an index")  # damaged: status fails
    assert git_info(git_repo) == {
        "commit": head,
        "branch": "main",
        "dirty": None,
        "root": str(git_repo),
    }


def test_reading_never_writes_the_index(git_repo: Path) -> None:
    (git_repo / "a.txt").write_text("a", encoding="utf-8")
    _git(git_repo, "add", ".")
    _git(git_repo, "commit", "-qm", "first")
    index = git_repo / ".git" / "index"
    (git_repo / "a.txt").touch()  # stat data changed: a plain status would refresh the index
    before = index.stat().st_mtime_ns, index.read_bytes()
    assert git_info(git_repo)["dirty"] is False  # type: ignore[index]
    assert (index.stat().st_mtime_ns, index.read_bytes()) == before


def test_a_worktree_and_a_git_dir_from_the_environment_are_repositories(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (git_repo / "a.txt").write_text("a", encoding="utf-8")
    _git(git_repo, "add", ".")
    _git(git_repo, "commit", "-qm", "first")
    head = _git(git_repo, "rev-parse", "HEAD")
    tree = tmp_path / "tree"
    _git(git_repo, "worktree", "add", "-q", "-b", "feature", str(tree))
    assert (tree / ".git").is_file()  # a worktree's .git is a file naming the repository
    info = git_info(tree / "a.txt")
    assert info is not None
    assert (info["commit"], info["branch"], info["root"]) == (head, "feature", str(tree))
    # a link from outside into the repository: git finds the repository from the real path
    (git_repo / "sub").mkdir()
    link = tmp_path / "link"
    link.symlink_to(git_repo / "sub")
    via_link = git_info(link)
    assert via_link is not None and via_link["commit"] == head
    # GIT_DIR names a repository whatever the folder: git takes the folder as the work tree
    loose = tmp_path / "loose"
    loose.mkdir()
    monkeypatch.setenv("GIT_DIR", str(git_repo / ".git"))
    from_env = git_info(loose)
    assert from_env is not None
    assert (from_env["commit"], from_env["root"]) == (head, str(loose))
