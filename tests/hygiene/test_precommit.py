"""End to end with real git and real pre-commit, in temporary repositories.

The hooks are installed the way other repositories get them: from a tagged git clone of this
checkout (`hooks_repo`, tagged with the `rev` the README's snippet names), into one
`PRE_COMMIT_HOME` shared by the session, so pre-commit builds the hook environment once (the
light core: seconds). `pre-commit try-repo` on the same clone builds one more, throw-away
environment. The commit test of the combined hook uses the dev virtualenv's console script
through a `repo: local` / `language: system` hook: real pre-commit and git without a build.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests import nbbuild as b

pytestmark = [pytest.mark.precommit, pytest.mark.git, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
OUT = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
ERR = [{"output_type": "error", "ename": "ValueError", "evalue": "x", "traceback": []}]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SNIPPET = README.split("<!-- snippet:pre-commit -->\n```yaml\n")[1].split("```")[0]
README_REV = re.search(r"^    rev: (\S+)$", SNIPPET, re.MULTILINE).group(1)  # type: ignore[union-attr]
HOOKS = ("mlops-nb-hook", "mlops-nb-lint", "mlops-nb-strip")
# Every non-empty subset of the shipped hooks, in every order.
SEQUENCES = [seq for n in (1, 2, 3) for seq in itertools.permutations(HOOKS, n)]


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
    for cmd in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "hooks"],
        ["tag", README_REV],
    ):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=env)
    return str(repo), README_REV


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
    # All three hooks, in the manifest's order: the hook strips, lint and strip pass after it.
    assert done.returncode == 1, done.stdout + done.stderr
    assert "files were modified by this hook" in done.stdout
    assert "nb/train.ipynb: stripped 1 output, 2 execution counts" in done.stdout
    assert done.stdout.count("Passed") == 2, done.stdout
    cells = _cells(nb.read_text(encoding="utf-8"))
    assert [c["id"] for c in cells] == ["p", "c"]
    assert cells[0]["metadata"]["tags"] == ["parameters"]


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


# --- the shipped hooks, installed from a tagged clone as the README says ----------------------


def _remote_config(
    repo: Path,
    hooks_repo: tuple[str, str],
    hooks: Sequence[str],
    *,
    install: bool = True,
    **top: Any,
) -> None:
    lines = [f"{k}: {str(v).lower()}" for k, v in top.items()]
    lines += ["repos:", f"  - repo: {hooks_repo[0]}", f"    rev: {hooks_repo[1]}", "    hooks:"]
    lines += [f"      - id: {h}" for h in hooks]
    (repo / ".pre-commit-config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _git(repo, "add", ".pre-commit-config.yaml")
    if install:
        subprocess.run([*PRE_COMMIT, "install"], cwd=repo, check=True, capture_output=True)


def test_readme_snippet_names_the_release_tag() -> None:
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    assert f"v{version}" == README_REV  # releases are tagged vX.Y.Z: what autoupdate finds


def test_readme_snippet_works_as_written(user_repo: Path, hooks_repo: tuple[str, str]) -> None:
    """The README's YAML, with only the repository URL pointed at a tagged clone."""
    config = re.sub(r"(?m)^(  - repo: )\S+.*$", rf"\g<1>{hooks_repo[0]}", SNIPPET)
    assert config.count(hooks_repo[0]) == 1 and f"rev: {README_REV}" in config
    (user_repo / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    subprocess.run([*PRE_COMMIT, "install"], cwd=user_repo, check=True, capture_output=True)
    _git(user_repo, "add", ".pre-commit-config.yaml")
    _git(user_repo, "commit", "-q", "-m", "hooks")  # no notebooks yet: builds the environment

    bad = b.write(
        user_repo / "notebooks" / "bad.ipynb", b.params("a = 1", count=2), b.code("b", count=1)
    )
    _git(user_repo, "add", "-A")
    done = _git(user_repo, "commit", "-m", "bad", check=False)
    assert done.returncode == 1 and "NB101" in done.stdout + done.stderr, done.stdout + done.stderr
    _git(user_repo, "rm", "-q", "--cached", str(bad))

    nb = b.write(user_repo / "notebooks" / "train.ipynb", b.params("a = 1", count=1, outputs=OUT))
    _git(user_repo, "add", str(nb))
    assert _git(user_repo, "commit", "-m", "train", check=False).returncode == 1  # stripped
    _git(user_repo, "add", str(nb))
    _git(user_repo, "commit", "-q", "-m", "train")
    assert _cells(_git(user_repo, "show", "HEAD:notebooks/train.ipynb").stdout)[0]["outputs"] == []


def _hook_env(pre_commit_home: str) -> Path:
    (env,) = Path(pre_commit_home).glob("repo*/py_env-*")
    return env


def test_the_hook_environment_is_the_light_core(
    user_repo: Path, hooks_repo: tuple[str, str], pre_commit_home: str
) -> None:
    _remote_config(user_repo, hooks_repo, ["mlops-nb-lint"])
    subprocess.run([*PRE_COMMIT, "install-hooks"], cwd=user_repo, check=True, capture_output=True)
    env = _hook_env(pre_commit_home)
    dists = {
        p.name.split("-")[0].lower() for p in env.glob("lib/python*/site-packages/*.dist-info")
    }
    assert {"mlops_nb", "nbformat", "nbstripout"} <= dists
    assert not dists & {"papermill", "pandas", "ipykernel", "scrapbook", "nbclient", "numpy"}
    # `pip install mlops-nb` alone: running a notebook says which extra it needs, in one line.
    nb = b.write(user_repo / "nb.ipynb", b.params("a = 1"))
    done = subprocess.run(
        [str(env / "bin" / "mlops-nb"), "run", str(nb), "--runs-dir", str(user_repo / "runs")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("mlops-nb: error: mlops-nb run needs the Python package")
    assert "fix: pip install 'mlops-nb[run]'" in done.stderr and "Traceback" not in done.stderr
    assert not (user_repo / "runs").exists()


@pytest.mark.parametrize("hooks", SEQUENCES, ids=["+".join(h[9:] for h in s) for s in SEQUENCES])
def test_no_subset_or_order_of_the_hooks_lets_a_notebook_run_out_of_order_land(
    user_repo: Path, hooks_repo: tuple[str, str], hooks: Sequence[str]
) -> None:
    """What `git commit` runs, twice: the user re-adds whatever the hooks left and tries again."""
    made = {
        "a": b.write(
            user_repo / "a.ipynb",
            b.params("a = 1", count=1),
            b.code("b", count=3),
            b.code("c", count=2),
        ),
        "b": b.write(
            user_repo / "b.ipynb", b.params("a = 1", count=1), b.code("b"), b.code("c", count=2)
        ),
        "c": b.write(
            user_repo / "c.ipynb", b.params("a = 1", count=1), b.code("f()", count=2, outputs=ERR)
        ),
    }
    saved = {name: path.read_bytes() for name, path in made.items()}
    for fail_fast in (False, True):
        _remote_config(user_repo, hooks_repo, hooks, fail_fast=fail_fast, install=False)
        for attempt in (1, 2):
            _git(user_repo, "add", "-A")
            done = subprocess.run(
                [*PRE_COMMIT, "run"], cwd=user_repo, capture_output=True, text=True
            )
            assert done.returncode == 1, f"fail_fast={fail_fast}, attempt {attempt}:\n{done.stdout}"
        # Nothing erased: lint still sees what is wrong with each.
        assert {name: path.read_bytes() for name, path in made.items()} == saved


def test_autoupdate_finds_the_release(user_repo: Path, hooks_repo: tuple[str, str]) -> None:
    first = _git(Path(hooks_repo[0]), "rev-list", "--max-parents=0", "HEAD").stdout.strip()
    _remote_config(user_repo, (hooks_repo[0], first), ["mlops-nb-hook"])
    done = subprocess.run(
        [*PRE_COMMIT, "autoupdate"], cwd=user_repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = (user_repo / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert f"rev: {README_REV}" in text
