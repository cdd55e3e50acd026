"""A sweep reads its notebook once, and with it the git state of its repository: every run
records the code it ran, not what the repository became while the sweep went on."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlops_nb.sweep.api import sweep
from tests import nbbuild as b

pytestmark = [pytest.mark.kernel, pytest.mark.git]


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_runs_record_the_repository_as_it_was_when_the_sweep_read_the_notebook(
    git_repo: Path, runs_dir: Path, executor: str
) -> None:
    # each run writes a file into the repository: after the first, `git status` is dirty
    nb = b.write(
        git_repo / "nb.ipynb",
        b.params("i = 0"),
        b.code("open(f'out-{i}.txt', 'w').write(str(i))"),
    )
    (git_repo / ".gitignore").write_text("runs/\n")
    _git(git_repo, "add", ".")
    _git(git_repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "nb")
    head = _git(git_repo, "rev-parse", "HEAD")
    result = sweep(nb, {"i": [1, 2, 3]}, workers=1, executor=executor, runs_dir=runs_dir)
    assert result.ok, result.entries
    assert _git(git_repo, "status", "--porcelain")  # the runs did change the repository
    gits = [run.record["git"] for run in result.runs]
    expected = {"commit": head, "branch": "main", "dirty": False, "root": str(git_repo)}
    assert gits == [expected] * 3
