"""Benchmark: the pre-commit hook environment, cold and warm, against nbstripout's.

    python benchmarks/hooks.py [--repeat 3] [--notebooks 500] [--compare-rev REV]

Cold: `pre-commit install-hooks` for `mlops-nb-hook`, from a tagged git clone of this checkout
into an empty PRE_COMMIT_HOME (what a new user's first commit pays), against
`python -m venv D && D/bin/pip install nbstripout` into a fresh folder; time (median of
--repeat) and size on disk of the environment. Both install from the same pip cache/index.
Warm: `pre-commit run` of the hook on --notebooks notebooks (30 cells, with outputs, run in order:
all of them are linted and stripped) against nbstripout's hook (`repo: local`, the nbstripout of
that fresh venv) on copies of the same files.
--compare-rev REV also builds the hook environment of another revision (e.g. one whose core still
held the notebook-execution stack), once.

Targets (issue 12): cold environment <= 60 MB and <= 3x the time of `pip install nbstripout`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hygiene import make_notebook

ROOT = Path(__file__).resolve().parents[1]
TAG = "v0.0.0-bench"
GIT_ENV = {
    "GIT_TEMPLATE_DIR": "",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def run(cmd: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(
        list(cmd),
        cwd=cwd,
        env={**os.environ, **GIT_ENV, **(env or {})},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def size_mb(path: Path) -> float:
    """Disk use of a folder, following symbolic links (virtualenv links pip from its app-data
    cache; both environments link their python), each file counted once, like `du -sL`."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for p in path.rglob("*"):
        try:
            st = p.stat()
        except OSError:
            continue
        if p.is_file() and (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total / 1e6


def tagged_clone(dest: Path, rev: str | None) -> Path:
    """A git repository holding this checkout's package (working tree, or ``rev``), tagged."""
    dest.mkdir()
    if rev is None:
        for name in ("mlops_nb", "templates"):
            shutil.copytree(
                ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
            shutil.copy(ROOT / name, dest / name)
    else:
        archive = subprocess.run(
            [
                "git",
                "archive",
                rev,
                "mlops_nb",
                "templates",
                "pyproject.toml",
                "README.md",
                ".pre-commit-hooks.yaml",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "hooks"], ["tag", TAG]):
        run(["git", *cmd], cwd=dest)
    return dest


def user_repo(dest: Path, config: str) -> Path:
    dest.mkdir()
    run(["git", "init", "-q"], cwd=dest)
    (dest / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    return dest


def remote_config(clone: Path) -> str:
    return f"repos:\n  - repo: {clone}\n    rev: {TAG}\n    hooks:\n      - id: mlops-nb-hook\n"


def cold_hook_env(tmp: Path, clone: Path, label: str) -> tuple[float, float, Path]:
    """Seconds and MB of one cold `pre-commit install-hooks`; the PRE_COMMIT_HOME used."""
    home = tmp / f"home-{label}"
    repo = user_repo(tmp / f"user-{label}", remote_config(clone))
    seconds = run([*PRE_COMMIT, "install-hooks"], cwd=repo, env={"PRE_COMMIT_HOME": str(home)})
    (env,) = home.glob("repo*/py_env-*")
    return seconds, size_mb(env), home


def cold_nbstripout(tmp: Path, label: str) -> tuple[float, float, Path]:
    venv = tmp / f"nbstripout-{label}"
    start = time.perf_counter()
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "pip"), "install", "-q", "nbstripout"])
    return time.perf_counter() - start, size_mb(venv), venv


def notebooks(folder: Path, count: int) -> list[str]:
    import json

    folder.mkdir(parents=True)
    names = []
    for i in range(count):
        path = folder / f"nb{i:04d}.ipynb"
        path.write_text(json.dumps(make_notebook(i, 30), indent=1), encoding="utf-8")
        names.append(str(path.relative_to(folder.parent)))
    return names


def warm_run(repo: Path, home: Path, hook: str, files: list[str], source: Path) -> float:
    """`pre-commit run HOOK --files ...` on fresh copies of the notebooks (exit 1: stripped)."""
    shutil.rmtree(repo / "nbs", ignore_errors=True)
    shutil.copytree(source, repo / "nbs")
    run(["git", "add", "-A"], cwd=repo)  # staged, as in a commit: pre-commit sees the change
    start = time.perf_counter()
    done = subprocess.run(
        [*PRE_COMMIT, "run", hook, "--files", *files],
        cwd=repo,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 1 or "files were modified by this hook" not in done.stdout:
        raise SystemExit(
            f"{hook} did not strip the notebooks (exit {done.returncode}):\n"
            f"{done.stdout[:2000]}\n{done.stderr[-2000:]}"
        )
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--notebooks", type=int, default=500)
    parser.add_argument("--compare-rev", help="also build this git revision's hook env, once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlops-nb-bench-hooks-") as raw:
        tmp = Path(raw)
        clone = tagged_clone(tmp / "clone", None)
        ours, base = [], []
        for i in range(args.repeat):  # interleaved, so load on the machine hits both alike
            base.append(cold_nbstripout(tmp, str(i)))
            ours.append(cold_hook_env(tmp, clone, str(i)))
        t_base = statistics.median(t for t, _, _ in base)
        t_ours = statistics.median(t for t, _, _ in ours)
        mb_base, mb_ours = base[0][1], ours[0][1]
        print(f"cold, median of {args.repeat} (pip cache warm for both):")
        print(f"  python -m venv + pip install nbstripout : {t_base:6.1f} s  {mb_base:6.1f} MB")
        print(f"  pre-commit install-hooks (mlops-nb-hook): {t_ours:6.1f} s  {mb_ours:6.1f} MB")
        print(
            f"  ratio: time {t_ours / t_base:.2f}x (target <= 3x), size {mb_ours:.1f} MB "
            f"(target <= 60 MB; {mb_ours / mb_base:.2f}x nbstripout's venv)"
        )
        ok = t_ours <= 3 * t_base and mb_ours <= 60
        if args.compare_rev:
            old = tagged_clone(tmp / "clone-old", args.compare_rev)
            t_old, mb_old, _ = cold_hook_env(tmp, old, "old")
            print(
                f"  {args.compare_rev} for comparison          : {t_old:6.1f} s  {mb_old:6.1f} MB"
            )

        # Warm: the environments exist; one repository runs both hooks on the same notebooks.
        source = tmp / "source" / "nbs"
        files = notebooks(source, args.notebooks)
        nbstripout = base[0][2] / "bin" / "nbstripout"
        config = remote_config(clone) + (
            "  - repo: local\n    hooks:\n      - id: nbstripout\n        name: nbstripout\n"
            f"        entry: {nbstripout}\n        language: system\n        types: [jupyter]\n"
        )
        repo = user_repo(tmp / "user-warm", config)
        home = ours[0][2]
        w_ours = statistics.median(
            warm_run(repo, home, "mlops-nb-hook", files, source) for _ in range(args.repeat)
        )
        w_base = statistics.median(
            warm_run(repo, home, "nbstripout", files, source) for _ in range(args.repeat)
        )
        print(f"warm, {args.notebooks} notebooks x 30 cells with outputs, median of {args.repeat}:")
        print(f"  pre-commit run mlops-nb-hook (lint + strip): {w_ours:6.2f} s")
        print(f"  pre-commit run nbstripout (strip only)     : {w_base:6.2f} s")
        print(f"  ratio: {w_ours / w_base:.2f}x")
        print("targets met" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
