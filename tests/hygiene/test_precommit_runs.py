"""Real pre-commit, in a real git repository that commits its runs store: the shipped hooks
leave the recorded runs' notebooks as they ran (review6 item 5). The manifest's `exclude` keeps
run folders from being passed at all; when they are passed anyway (a run folder copied under
another name, a user `exclude` replacing the manifest's), the hooks skip them themselves.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mlops_nb.main import main
from tests import nbbuild as b
from tests.hygiene.test_precommit import (  # noqa: F401  (fixtures)
    OUT,
    PRE_COMMIT,
    _git,
    hooks_repo,
    pre_commit_home,
    user_repo,
)

pytestmark = [pytest.mark.precommit, pytest.mark.git, pytest.mark.slow, pytest.mark.kernel]


def _config(repo: Path, hooks: tuple[str, str], exclude: str | None) -> None:
    lines = ["repos:", f"  - repo: {hooks[0]}", f"    rev: {hooks[1]}", "    hooks:"]
    for hook in ("mlops-nb-hook", "mlops-nb-lint", "mlops-nb-strip"):
        lines.append(f"      - id: {hook}")
        if exclude is not None:
            lines.append(f"        exclude: '{exclude}'")
    (repo / ".pre-commit-config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _records(repo: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(repo)): p.read_bytes()
        for folder in (repo / "runs", repo / "archive")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "index.sqlite"
    }


def _pre_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PRE_COMMIT, "run", *args], cwd=repo, capture_output=True, text=True, timeout=900
    )


def test_the_shipped_hooks_leave_a_committed_runs_store_alone(
    user_repo: Path,  # noqa: F811  (the fixture imported above)
    hooks_repo: tuple[str, str],  # noqa: F811
) -> None:
    nb = b.write(
        user_repo / "train.ipynb",
        b.params("x = 1"),
        b.code("import scrapbook as sb\nsb.glue('y', x)\nprint(1 / 0 if x == 2 else x)"),
    )
    runs = user_repo / "runs"
    assert main(["run", str(nb), "--runs-dir", str(runs)]) == 0
    assert main(["run", str(nb), "--runs-dir", str(runs), "-p", "x", "2"]) == 1  # NB103 inside
    shutil.copytree(next(runs.glob("2*")), user_repo / "archive" / "best")
    records = _records(user_repo)
    assert len([k for k in records if k.endswith("output.ipynb")]) == 3
    b.write(nb, b.params("x = 1", count=1), b.code("print(x)", count=2, outputs=OUT))

    _config(user_repo, hooks_repo, exclude=None)
    _git(user_repo, "add", "-A")
    done = _pre_commit(user_repo)  # the staged files, as `git commit` runs it
    assert done.returncode == 1, done.stdout + done.stderr
    assert "train.ipynb: stripped 1 output, 2 execution counts" in done.stdout
    assert "runs/" not in done.stdout  # excluded by the manifest: never passed
    # passed to the hooks (no run id in its path), and skipped by them with a note
    assert done.stdout.count("archive/best/output.ipynb: skipped: it is in the run folder") == 1
    assert "archive/best/output.ipynb:cell" not in done.stdout  # no lint finding
    assert _records(user_repo) == records
    _git(user_repo, "add", "-A")
    assert _pre_commit(user_repo).returncode == 0

    # The user's own `exclude` replaces the manifest's: the hooks still skip the records.
    _config(user_repo, hooks_repo, exclude="^$")
    done = _pre_commit(user_repo, "--all-files", "--verbose")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("/output.ipynb: skipped: it is in the run folder ") == 3 * 3
    assert _records(user_repo) == records
