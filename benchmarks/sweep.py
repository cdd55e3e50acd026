"""Benchmark: batch-executing one notebook N times, several ways, on this machine, in one go.

  (a) a loop of the papermill CLI            (b) a loop of papermill.execute_notebook in-process
  (c) a loop of `python script.py` (same code as the notebook, no notebook machinery)
  (d) mlops-nb sweep --workers 2 (no flags: preload auto, forked kernels)
  (e) the same with --no-preload             (f) the same with --no-fork
  (g) (d) on a real `dask scheduler` + `dask worker --nworkers 2` pair on 127.0.0.1, whose
      workers have run a 2-run sweep before (a cluster outlives one sweep)

for a trivial notebook that glues one value with scrapbook (as every notebook of this product
does) and a realistic one (pandas + scikit-learn LogisticRegression on the breast-cancer data + 3
glued metrics), in this environment and, with --env both (the default), in a second one with the
[lab] extra (JupyterLab: `import scrapbook` costs ~2 s more there), made by this script on first
use (a venv per checkout in $XDG_CACHE_HOME/mlops-nb-bench). Prints wall-clock totals (of whole commands,
start-up included), per-run times, ratios to (c), the per-run overhead of (d) over (c) and the
ratio (g)/(d). With --repeat K the sweeps run K times each and the median is reported.
Usage: python benchmarks/sweep.py [--runs 20] [--repeat 1] [--only trivial|realistic]
       [--env both|this|lab] [--no-papermill] [--no-dask]
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import _notebooks

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
TRIVIAL = [("parameters", "x = 1.0"), ("", "import scrapbook as sb\ny = x * 2\nsb.glue('y', y)")]
REALISTIC = _notebooks.REALISTIC  # the same notebook run_overhead.py measures


def bench(
    label: str,
    cells: list[tuple[str, str]],
    name: str,
    n: int,
    work: Path,
    repeat: int = 1,
    *,
    papermill: bool = True,
    scheduler: str | None = None,
) -> dict[str, float]:
    work.mkdir()
    nb, script = work / "nb.ipynb", work / "script.py"
    _notebooks.write_notebook(nb, cells)
    # the script takes the parameter from its command line, where the notebook has it injected
    argv = ("", f"import sys\n{name} = float(sys.argv[1])")
    _notebooks.write_script(script, [cells[0], argv, *cells[1:]])
    values = [round(0.1 + i * 0.05, 3) for i in range(n)]
    (work / "grid.yaml").write_text(f"{name}: {values}\n")
    out = work / "out.ipynb"

    def script_loop() -> None:
        for v in values:
            subprocess.run(
                [sys.executable, str(script), str(v)], check=True, capture_output=True, cwd=work
            )

    def sweep(runs: str, *extra: str) -> Callable[[], None]:
        return functools.partial(_sweep, nb, work, runs, *extra)

    results: dict[str, float] = {}
    cpu: dict[str, float] = {}  # CPU seconds (user + system) of this process and its children

    def timed(key: str, fn: Callable[[], None], times: int = 1) -> None:
        results[key], cpu[key] = timed_cpu(fn, times)

    if papermill:
        timed("(a) papermill CLI loop", functools.partial(_papermill_cli, nb, out, name, values))
        timed(
            "(b) papermill.execute_notebook loop",
            functools.partial(_papermill_inproc, nb, out, name, values),
        )
    timed("(c) python script.py loop", script_loop)
    timed("(d) mlops-nb sweep --workers 2", sweep("runs-d"), repeat)
    timed("(e) (d) with --no-preload", sweep("runs-e", "--no-preload"), repeat)
    timed("(f) (d) with --no-fork", sweep("runs-f", "--no-fork"), repeat)
    if scheduler:
        dask = ("--executor", "dask", "--scheduler", scheduler)
        # A dask cluster lives long: its workers imported the run machinery for an earlier sweep
        # (a pool forked from the sweep's process gets it for free). Warm them with 2 runs first.
        (work / "grid.yaml").rename(work / "grid-all.yaml")
        (work / "grid.yaml").write_text(f"{name}: {values[:2]}\n")
        sweep("runs-g0", *dask)()
        (work / "grid-all.yaml").replace(work / "grid.yaml")
        timed("(g) (d) on dask scheduler + 2 workers", sweep("runs-g", *dask), repeat)
    _report(label, n, results, cpu)
    return results


def _papermill_cli(nb: Path, out: Path, name: str, values: list[float]) -> None:
    for v in values:
        subprocess.run(
            [str(BIN / "papermill"), "--no-progress-bar", str(nb), str(out), "-p", name, str(v)],
            check=True,
            capture_output=True,
        )


def _papermill_inproc(nb: Path, out: Path, name: str, values: list[float]) -> None:
    import papermill

    for v in values:
        papermill.execute_notebook(
            str(nb), str(out), parameters={name: v}, progress_bar=False, log_output=False
        )


def _sweep(nb: Path, work: Path, runs: str, *extra: str) -> None:
    shutil.rmtree(work / runs, ignore_errors=True)  # every repetition runs every set
    subprocess.run(
        [
            str(BIN / "mlops-nb"),
            "sweep",
            str(nb),
            "--grid",
            str(work / "grid.yaml"),
            "--workers",
            "2",
            "--quiet",
            "--runs-dir",
            str(work / runs),
            *extra,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _report(label: str, n: int, results: dict[str, float], cpu: dict[str, float]) -> None:
    base = results["(c) python script.py loop"]
    print(f"\n{label} notebook, {n} runs each ({_env_label()}; load {os.getloadavg()[0]:.1f})")
    print(f"{'variant':<48} {'total s':>8} {'per run s':>10} {'vs (c)':>7} {'CPU s':>7}")
    for k, t in results.items():
        print(f"{k:<48} {t:8.2f} {t / n:10.3f} {t / base:6.2f}x {cpu[k]:7.2f}")
    d = results["(d) mlops-nb sweep --workers 2"]
    if "(a) papermill CLI loop" in results:
        print(f"(a)/(d) = {results['(a) papermill CLI loop'] / d:.2f}x faster")
    print(f"per-run overhead of (d) over (c): {(d - base) / n:.3f} s (target <= 0.10 s)")
    extra = cpu["(d) mlops-nb sweep --workers 2"] - cpu["(c) python script.py loop"]
    print(f"per-run CPU of (d) over (c): {extra / n:.3f} s (over 2 cores: {extra / n / 2:.3f} s)")
    g = results.get("(g) (d) on dask scheduler + 2 workers")
    if g is not None:
        print(f"dask/local (g)/(d) = {g / d:.2f}x (target <= 1.5x)")


def timed_cpu(fn: Callable[[], None], repeat: int = 1) -> tuple[float, float]:
    """Median wall-clock seconds of ``repeat`` calls of ``fn`` and the CPU seconds (user +
    system, of this process and the children it waited for: the commands, their fork servers,
    kernels and pool workers) of that same call: a figure the machine's load barely moves."""
    import resource

    def used() -> float:
        me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    runs = []
    for _ in range(repeat):
        t, c = time.perf_counter(), used()
        fn()
        runs.append((time.perf_counter() - t, used() - c))
    return sorted(runs)[len(runs) // 2]


def _env_label() -> str:
    lab = importlib.util.find_spec("jupyterlab") is not None
    return "with JupyterLab installed" if lab else "without JupyterLab"


@contextmanager
def dask_cluster(work: Path) -> Iterator[str | None]:
    """A real `dask scheduler` and `dask worker --nworkers 2 --nthreads 1` on 127.0.0.1
    (started before the clock runs, as a user's cluster would be); None without dask."""
    if importlib.util.find_spec("distributed") is None:
        yield None
        return
    from distributed import Client

    info = work / "scheduler.json"
    dask = str(BIN / "dask")
    quiet: dict[str, object] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--dashboard-address",
                "127.0.0.1:0",
                "--scheduler-file",
                str(info),
            ],
            start_new_session=True,
            cwd=work,
            **quiet,  # type: ignore[call-overload]
        )
    ]
    try:
        while not info.is_file():
            time.sleep(0.1)
        procs.append(
            subprocess.Popen(
                [
                    dask,
                    "worker",
                    "--scheduler-file",
                    str(info),
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                ],
                start_new_session=True,
                cwd=work,
                **quiet,  # type: ignore[call-overload]
            )
        )
        address = json.loads(info.read_text())["address"]
        with Client(address, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            os.killpg(p.pid, signal.SIGTERM)
            p.wait()


def lab_python() -> Path:
    """The Python of a venv with this checkout and its [ml,dask,lab] extras (made once per
    checkout: the install is editable, so another checkout's venv would run its code)."""
    import hashlib

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "mlops-nb-bench" / f"venv-lab-{hashlib.sha256(bytes(ROOT)).hexdigest()[:8]}"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"making {venv} (once: pip install -e '.[ml,dask,lab]')", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-e", f"{ROOT}[ml,dask,lab]"], check=True
        )
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="median of K sweeps")
    parser.add_argument("--only", choices=["trivial", "realistic"])
    parser.add_argument("--env", choices=["both", "this", "lab"], default="both")
    parser.add_argument("--no-papermill", action="store_true", help="skip (a) and (b)")
    parser.add_argument("--no-dask", action="store_true", help="skip (g)")
    args = parser.parse_args(argv)
    if args.env in ("both", "this"):
        run_here(args)
    if args.env in ("both", "lab"):
        again = [
            a for a in (argv if argv is not None else sys.argv[1:]) if not a.startswith("--env")
        ]
        again = [a for a in again if a not in ("both", "this", "lab")]
        subprocess.run([str(lab_python()), __file__, *again, "--env", "this"], check=True)
    return 0


def run_here(args: argparse.Namespace) -> None:
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {_env_label()}")
    # As installed: pip compiles a package to bytecode. A checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would compile the package again in every process it starts.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "mlops_nb")], check=True)
    with tempfile.TemporaryDirectory(prefix="mlops-nb-bench-") as tmp:
        options = {"papermill": not args.no_papermill}
        cluster = dask_cluster(Path(tmp)) if not args.no_dask else _none()
        with cluster as scheduler:
            if args.only in (None, "trivial"):
                bench(
                    "trivial",
                    TRIVIAL,
                    "x",
                    args.runs,
                    Path(tmp) / "trivial",
                    args.repeat,
                    scheduler=scheduler,
                    **options,
                )
            if args.only in (None, "realistic"):
                bench(
                    "realistic",
                    REALISTIC,
                    "C",
                    args.runs,
                    Path(tmp) / "realistic",
                    args.repeat,
                    scheduler=scheduler,
                    **options,
                )


@contextmanager
def _none() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    raise SystemExit(main())
