"""Overhead of one `mlops-nb run` against the papermill CLI and a plain `python script.py`.

Prints, for a trivial and a realistic notebook (pandas + scikit-learn + 3 glues), the median wall
time of each way of running the same code, with ratios against the papermill CLI (the baseline
the target names: `mlops-nb run` no slower than papermill) and against the plain script, plus the
start-up time of `mlops-nb --help` (target < 0.3 s).

    python benchmarks/run_overhead.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _notebooks import REALISTIC, TRIVIAL, write_notebook, write_script

BIN = Path(sys.executable).parent


def timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def median_of(cmd: list[str], cwd: Path, repeat: int) -> float:
    timed(cmd, cwd)  # warm the file cache and bytecode
    return statistics.median(timed(cmd, cwd) for _ in range(repeat))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    papermill = shutil.which("papermill", path=str(BIN)) or "papermill"
    mlops_nb = shutil.which("mlops-nb", path=str(BIN)) or "mlops-nb"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        help_t = median_of([mlops_nb, "--help"], work, args.repeat)
        print(f"mlops-nb --help: {help_t:.3f} s (target < 0.3 s)")
        print()
        print(
            f"{'notebook':<10} {'way':<16} {'median s':>9} {'vs papermill':>13} {'vs script':>10}"
        )
        for label, cells in (("trivial", TRIVIAL), ("realistic", REALISTIC)):
            nb = write_notebook(work / f"{label}.ipynb", cells)
            script = write_script(work / f"{label}.py", cells)
            times = {
                "python script": median_of([sys.executable, str(script)], work, args.repeat),
                "papermill CLI": median_of(
                    [papermill, str(nb), str(work / "out.ipynb"), "--no-progress-bar"],
                    work,
                    args.repeat,
                ),
                "mlops-nb run": median_of(
                    [mlops_nb, "run", str(nb), "--runs-dir", str(work / "runs")], work, args.repeat
                ),
            }
            base, script_t = times["papermill CLI"], times["python script"]
            for way, t in times.items():
                print(f"{label:<10} {way:<16} {t:>9.3f} {t / base:>12.2f}x {t / script_t:>9.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
