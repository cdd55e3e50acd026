"""End to end with real git and real pre-commit, in temporary repositories.

`pre-commit try-repo` builds the hook environment from .pre-commit-hooks.yaml: it pip-installs
this package with its dependencies from a clean copy of the checkout (45 s on an idle 2-core
machine, over 3 minutes on a busy one). try-repo builds it in a throw-away store, so it cannot be
reused: that is the one environment build of the session. The commit tests use the same console
script through a `repo: local` / `language: system` hook (the dev virtualenv's `mlops-nb-hook`),
which is real pre-commit and real git without a second build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import nbbuild as b

pytestmark = [pytest.mark.precommit, pytest.mark.git, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
OUT = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True)


@pytest.fixture(scope="session")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A committed copy of this checkout's package: what `repo:` points at (path, rev)."""
    repo = tmp_path_factory.mktemp("hooks-repo")

    def ignore(folder: str, names: list[str]) -> set[str]:
        # Only source files: no caches, checkpoints, or sockets left by running kernels.
        return {
            n
            for n in names
            if n in ("__pycache__", ".ipynb_checkpoints")
            or n.endswith(".pyc")
            or not (Path(folder, n).is_file() or Path(folder, n).is_dir())
        }

    shutil.copytree(ROOT / "mlops_nb", repo / "mlops_nb", ignore=ignore)
    shutil.copytree(ROOT / "templates", repo / "templates", ignore=ignore)
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy(ROOT / name, repo / name)
    env = {
        **os.environ,
        "GIT_TEMPLATE_DIR": "",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "hooks"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=env)
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, env=env, capture_output=True, text=True
    ).stdout.strip()
    return str(repo), rev


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("pre-commit-home"))


@pytest.fixture
def user_repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch, pre_commit_home: str) -> Path:
    monkeypatch.setenv("PRE_COMMIT_HOME", pre_commit_home)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    return git_repo


def _cells(text: str) -> list[dict[str, Any]]:
    return json.loads(text)["cells"]  # type: ignore[no-any-return]


def test_manifest_and_own_config_are_valid() -> None:
    for cmd, path in (
        ("validate-manifest", ".pre-commit-hooks.yaml"),
        ("validate-config", ".pre-commit-config.yaml"),
    ):
        done = subprocess.run([*PRE_COMMIT, cmd, str(ROOT / path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    manifest = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    for hook in ("mlops-nb-lint", "mlops-nb-strip", "mlops-nb-hook"):
        assert f"- id: {hook}\n" in manifest


def test_try_repo_runs_the_hooks(user_repo: Path, hooks_repo: tuple[str, str]) -> None:
    nb = b.write(
        user_repo / "nb" / "train.ipynb",
        b.params("a = 1", count=1, id="p"),
        b.code("print(a)", count=2, id="c", outputs=OUT),
    )
    _git(user_repo, "add", "-A")
    done = subprocess.run(
        [
            *PRE_COMMIT,
            "try-repo",
            hooks_repo[0],
            "mlops-nb-hook",
            "--ref",
            hooks_repo[1],
            "--files",
            "nb/train.ipynb",
        ],
        cwd=user_repo,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "files were modified by this hook" in done.stdout
    assert "nb/train.ipynb: stripped 1 output, 2 execution counts" in done.stdout
    cells = _cells(nb.read_text(encoding="utf-8"))
    assert [c["id"] for c in cells] == ["p", "c"]
    assert cells[0]["metadata"]["tags"] == ["parameters"]
    lint = subprocess.run(
        [
            *PRE_COMMIT,
            "try-repo",
            hooks_repo[0],
            "mlops-nb-lint",
            "--ref",
            hooks_repo[1],
            "--files",
            "nb/train.ipynb",
        ],
        cwd=user_repo,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def _install(user_repo: Path) -> None:
    entry = Path(sys.executable).parent / "mlops-nb-hook"
    (user_repo / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: local\n    hooks:\n      - id: mlops-nb-hook\n"
        "        name: mlops-nb hook\n"
        f"        entry: {entry}\n        language: system\n        types: [jupyter]\n",
        encoding="utf-8",
    )
    subprocess.run([*PRE_COMMIT, "install"], cwd=user_repo, check=True, capture_output=True)
    _git(user_repo, "add", ".pre-commit-config.yaml")
    _git(user_repo, "commit", "-q", "-m", "pre-commit")


def test_commits_through_the_hook(user_repo: Path) -> None:
    _install(user_repo)

    # A notebook run out of order is rejected with the lint message, and left as saved.
    bad = b.write(
        user_repo / "bad.ipynb",
        b.params("a = 1", count=2, id="p"),
        b.code("b = 2", count=1, id="c"),
    )
    saved = bad.read_bytes()
    _git(user_repo, "add", "bad.ipynb")
    done = _git(user_repo, "commit", "-m", "bad", check=False)
    assert done.returncode != 0
    assert "bad.ipynb:cell 1: NB101 ran out of order" in done.stdout + done.stderr
    assert bad.read_bytes() == saved
    _git(user_repo, "rm", "-q", "--cached", "bad.ipynb")
    bad.unlink()

    # A linear notebook with outputs ends up stripped in the commit, ids and tag intact.
    nb = b.write(
        user_repo / "train.ipynb",
        b.params("alpha = 0.5", count=1, id="params-1"),
        b.code("print(alpha)", count=2, id="show-2", outputs=OUT),
    )
    _git(user_repo, "add", "train.ipynb")
    first = _git(user_repo, "commit", "-m", "train", check=False)
    assert first.returncode != 0  # the hook changed the file: re-add, as with any fixer hook
    assert "files were modified by this hook" in first.stdout + first.stderr
    _git(user_repo, "add", "train.ipynb")
    _git(user_repo, "commit", "-q", "-m", "train")
    committed = _cells(_git(user_repo, "show", "HEAD:train.ipynb").stdout)
    assert [c["id"] for c in committed] == ["params-1", "show-2"]
    assert committed[0]["metadata"] == {"tags": ["parameters"]}
    assert [(c["execution_count"], c["outputs"]) for c in committed] == [(None, []), (None, [])]
    assert nb.read_text(encoding="utf-8") == _git(user_repo, "show", "HEAD:train.ipynb").stdout

    # A clean notebook commits on the first try, untouched.
    clean = b.write(user_repo / "eda.ipynb", b.params("n = 1"), b.code("print(n)"))
    before = clean.read_bytes()
    os.utime(clean, (1_000_000, 1_000_000))
    _git(user_repo, "add", "eda.ipynb")
    _git(user_repo, "commit", "-q", "-m", "eda")
    assert _git(user_repo, "show", "HEAD:eda.ipynb").stdout.encode() == before
    assert clean.stat().st_mtime == 1_000_000
