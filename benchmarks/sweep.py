"""Benchmark: batch-executing one notebook N times, five ways, on this machine, in one go.

  (a) a loop of the papermill CLI            (b) a loop of papermill.execute_notebook in-process
  (c) a loop of `python script.py` (same code as the notebook, no notebook machinery)
  (d) mlops-nb sweep --workers 2             (e) the same with --preload auto
  (f) for reference: (d) with --no-fork (every kernel a new process, as before the fork server)

for a trivial notebook and a realistic one (pandas + scikit-learn LogisticRegression on the
breast-cancer data + 3 glued metrics). Prints wall-clock totals (of whole commands, start-up
included), per-run times, ratios to (c), and the per-run overhead of (d) over (c). With
--repeat K the sweeps run K times each and the median is reported (this machine is shared).
Usage: python benchmarks/sweep.py [--runs 20] [--repeat 1] [--only trivial|realistic]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import _notebooks

BIN = Path(sys.executable).parent
TRIVIAL = [("parameters", "x = 1.0"), ("", "y = x * 2\nprint(y)")]
REALISTIC = _notebooks.REALISTIC  # the same notebook run_overhead.py measures


def bench(
    label: str, cells: list[tuple[str, str]], name: str, n: int, work: Path, repeat: int = 1
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

    def cli_loop() -> None:
        for v in values:
            subprocess.run(
                [
                    str(BIN / "papermill"),
                    "--no-progress-bar",
                    str(nb),
                    str(out),
                    "-p",
                    name,
                    str(v),
                ],
                check=True,
                capture_output=True,
            )

    def inproc_loop() -> None:
        import papermill

        for v in values:
            papermill.execute_notebook(
                str(nb), str(out), parameters={name: v}, progress_bar=False, log_output=False
            )

    def script_loop() -> None:
        for v in values:
            subprocess.run(
                [sys.executable, str(script), str(v)], check=True, capture_output=True, cwd=work
            )

    def sweep(runs: str, *extra: str) -> Callable[[], None]:
        def go() -> None:
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

        return go

    results = {
        "(a) papermill CLI loop": _notebooks.timed(cli_loop),
        "(b) papermill.execute_notebook loop": _notebooks.timed(inproc_loop),
        "(c) python script.py loop": _notebooks.timed(script_loop),
        "(d) mlops-nb sweep --workers 2": _notebooks.timed(sweep("runs-d"), repeat),
        "(e) mlops-nb sweep --workers 2 --preload auto": _notebooks.timed(
            sweep("runs-e", "--preload", "auto"), repeat
        ),
        "(f) (d) with --no-fork, for reference": _notebooks.timed(
            sweep("runs-f", "--no-fork"), repeat
        ),
    }
    base = results["(c) python script.py loop"]
    print(f"\n{label} notebook, {n} runs each")
    print(f"{'variant':<48} {'total s':>8} {'per run s':>10} {'vs (c)':>7}")
    for k, t in results.items():
        print(f"{k:<48} {t:8.2f} {t / n:10.3f} {t / base:6.2f}x")
    a = results["(a) papermill CLI loop"]
    d = results["(d) mlops-nb sweep --workers 2"]
    e = results["(e) mlops-nb sweep --workers 2 --preload auto"]
    print(f"(a)/(d) = {a / d:.2f}x faster, (a)/(e) = {a / e:.2f}x faster")
    print(f"per-run overhead of (d) over (c): {(d - base) / n:.3f} s")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="median of K sweeps")
    parser.add_argument("--only", choices=["trivial", "realistic"])
    args = parser.parse_args(argv)
    import os

    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="mlops-nb-bench-") as tmp:
        if args.only in (None, "trivial"):
            bench("trivial", TRIVIAL, "x", args.runs, Path(tmp) / "trivial", args.repeat)
        if args.only in (None, "realistic"):
            bench("realistic", REALISTIC, "C", args.runs, Path(tmp) / "realistic", args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
