"""Run the tests of integrations whose packages conflict with the main test environment.

MLflow caps pyarrow and kfp downgrades protobuf (see the README's "Testing" section), so their
tests run in environments of their own, each a virtualenv beside the checkout made on first use:

    python tests/integrations.py            # every environment, then the combined coverage
    python tests/integrations.py tracking   # one of them (no combined report)

Tests for an integration carry its marker (``mlflow``, ``tensorboard``, ``wandb``, ``dvc``,
``kfp``, ``argo``). The main ``pytest`` run deselects them (they are not skipped: they run here);
this script selects them by setting ``MLOPS_NB_INTEGRATIONS``.

Coverage: each environment runs under ``coverage run`` (``[tool.coverage.run]`` writes parallel
data files, and measures the subprocesses and forks the tests start). The checkout is the same
in every virtualenv, so afterwards this script combines every data file in the checkout (the
main run's, ``coverage run -m pytest``, included) and prints the combined report, which fails
under ``[tool.coverage.report] fail_under``. Exit code: 0 when every environment passed and the
combined coverage meets the floor, else 1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# environment name -> (extras installed beside [dev], markers whose tests run there)
ENVIRONMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tracking": (("mlflow", "tensorboard", "wandb"), ("mlflow", "tensorboard", "wandb")),
    "repro": (("dvc", "kfp", "argo", "env"), ("dvc", "kfp", "argo", "env")),
}


def _python(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def _ensure_env(name: str, extras: tuple[str, ...]) -> Path:
    env_dir = ROOT / f".venv-{name}"
    stamp = env_dir / ".mlops-nb-extras"
    wanted = ",".join(("dev", *extras))
    if stamp.exists() and stamp.read_text() == wanted:
        return env_dir
    print(f"integrations: creating {env_dir.name} with [{wanted}]", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    subprocess.run(
        [str(_python(env_dir)), "-m", "pip", "install", "-q", "-e", f"{ROOT}[{wanted}]"],
        check=True,
    )
    stamp.write_text(wanted)
    return env_dir


def _coverage_pytest(env_dir: Path) -> list[str]:
    return [str(_python(env_dir)), "-m", "coverage", "run", "-m", "pytest"]


def run_environment(name: str) -> int:
    extras, markers = ENVIRONMENTS[name]
    env_dir = _ensure_env(name, extras)
    env = {**os.environ, "MLOPS_NB_INTEGRATIONS": ",".join(markers)}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(env_dir)
    # uv's downloads survive between test runs (tests point XDG_CACHE_HOME at temp folders)
    env.setdefault("UV_CACHE_DIR", str(env_dir / "uv-cache"))
    expr = " or ".join(markers)
    start = time.monotonic()
    rc = subprocess.run(
        [*_coverage_pytest(env_dir), "-m", expr, "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        check=False,
    ).returncode
    # pytest exits 5 when nothing was collected: an environment with no tests yet is not a failure
    ok = rc in (0, 5)
    print(
        f"integrations: {name}: {'passed' if ok else 'FAILED'} in {time.monotonic() - start:.0f} s"
    )
    return 0 if ok else 1


def combined_coverage() -> int:
    """Combine every coverage data file in the checkout and print the report: 0 when the total
    meets ``fail_under``, else 1 (``coverage report`` exits 2 under the floor)."""
    if not any(ROOT.glob(".coverage.*")):
        print("integrations: no coverage data files (.coverage.*) to combine")
        return 1
    coverage = [sys.executable, "-m", "coverage"]
    subprocess.run([*coverage, "combine", "-q"], cwd=ROOT, check=True)
    rc = subprocess.run([*coverage, "report"], cwd=ROOT, check=False).returncode
    print(f"integrations: combined coverage {'meets' if rc == 0 else 'is UNDER'} the floor")
    return 0 if rc == 0 else 1


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(ENVIRONMENTS)
    unknown = [n for n in names if n not in ENVIRONMENTS]
    if unknown:
        print(f"integrations: unknown environment {unknown[0]!r}; valid: {', '.join(ENVIRONMENTS)}")
        return 2
    # The installs wait on downloads and disks more than on the CPU: make the environments at the
    # same time (about 3 minutes each on 2 cores), then run their tests one after the other.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        for future in [pool.submit(_ensure_env, n, ENVIRONMENTS[n][0]) for n in names]:
            future.result()
    rc = max(run_environment(n) for n in names)
    if set(names) != set(ENVIRONMENTS):  # a partial run: the combined figure would mislead
        return rc
    return max(rc, combined_coverage())


if __name__ == "__main__":
    sys.exit(main())
