"""Benchmark: the main job (`notebooks/pipeline.yaml`: eda -> train (a 4-run sweep) -> evaluate,
monitor -> report), first run and second run (every step up to date), end to end (the CLI).

Each variant runs in a fresh copy of notebooks/ with a fresh runs folder: (a) as shipped (kernels
forked from a template that preloads what the steps import, independent steps in parallel) and,
as the baseline, (b) `--no-fork` (every kernel a new process that imports everything itself).
Prints wall-clock seconds, the CPU seconds of the whole process tree, and the ratio (a)/(b).
Usage: python benchmarks/pipeline.py [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def once(work: Path, flags: list[str]) -> tuple[float, float, float]:
    """(first run s, second run s, CPU s of the first run) in a fresh copy."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    cmd = [
        sys.executable,
        "-m",
        "mlops_nb",
        "pipeline",
        "run",
        str(work / "notebooks" / "pipeline.yaml"),
    ]
    cmd += ["--runs-dir", str(work / "runs"), *flags]
    times = []
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = 0.0
    for i in range(2):
        t = time.perf_counter()
        done = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if done.returncode != 0:
            raise SystemExit(f"pipeline failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        if i == 0:
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        elif "skipped" not in done.stdout or " ran " in done.stdout:
            raise SystemExit(f"the second run did not skip every step:\n{done.stdout}")
    return times[0], times[1], cpu


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    rows = {}
    with tempfile.TemporaryDirectory(prefix="mlops-nb-bench-pipeline-") as tmp:
        for label, flags in (("forked + preloaded", []), ("--no-fork (baseline)", ["--no-fork"])):
            runs = [once(Path(tmp) / "w", flags) for _ in range(args.repeat)]
            rows[label] = [statistics.median(r[i] for r in runs) for i in range(3)]
    print(
        f"main job (notebooks/pipeline.yaml), {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'variant':<22} {'first run':>10} {'second run':>11} {'CPU (first)':>12}")
    for label, (first, second, cpu) in rows.items():
        print(f"{label:<22} {first:>9.1f}s {second:>10.2f}s {cpu:>11.1f}s")
    (a1, a2, acpu), (b1, b2, bcpu) = rows.values()
    print(
        f"ratio forked/baseline: first {a1 / b1:.2f}x, second {a2 / b2:.2f}x, CPU {acpu / bcpu:.2f}x"
    )
    print(f"targets (idle machine): first <= 15 s: {a1:.1f} s; second <= 1 s: {a2:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
