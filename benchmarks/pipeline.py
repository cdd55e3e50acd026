"""Benchmark: the main job (`notebooks/pipeline.yaml`, the 8-step loop: eda -> train (a 4-run
sweep) -> evaluate -> register (gate) -> shadow -> promote (gate) -> monitor -> report), first
run and second run (every step up to date), end to end (the CLI).

Each variant runs in a fresh copy of notebooks/ with a fresh runs folder: (a) as shipped (kernels
forked from a template that preloads what the steps import, independent steps in parallel) and,
as the baseline, (b) `--no-fork` (every kernel a new process that imports everything itself).
With `--before DIR` (a checkout of an older commit, e.g. `git archive REV | tar -x -C DIR`) the
same main job also runs on that code, interleaved with (a), for a side-by-side "before -> after"
under the same load. Prints wall-clock seconds, the CPU seconds of the whole process tree, the
ratios, the load average before and after, and where the first run of (a) spent its time: per
step run, its cells' own time (papermill's per-cell durations) and the rest (kernel start or
fork, imports, recording).
Usage: python benchmarks/pipeline.py [--repeat 1] [--before DIR]
"""

from __future__ import annotations

import argparse
import json
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


def once(work: Path, flags: list[str], code: Path | None = None) -> tuple[float, float, float]:
    """(first run s, second run s, CPU s of the first run) in a fresh copy."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    cmd = [sys.executable, "-m", "mlops_nb", "pipeline", "run"]
    cmd += [str(work / "notebooks" / "pipeline.yaml"), "--runs-dir", str(work / "runs"), *flags]
    env = dict(os.environ)
    if code is not None:  # the older checkout's package first (kernels inherit PYTHONPATH)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    times = []
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = 0.0
    for i in range(2):
        t = time.perf_counter()
        done = subprocess.run(cmd, cwd=work, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t)
        if done.returncode != 0:
            raise SystemExit(f"pipeline failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        if i == 0:
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        elif "skipped" not in done.stdout or " ran " in done.stdout:
            raise SystemExit(f"the second run did not skip every step:\n{done.stdout}")
    return times[0], times[1], cpu


def breakdown(runs: Path) -> list[str]:
    """Per step run of the first invocation: wall seconds, its cells' seconds, the rest."""
    lines = [f"  {'run':<26} {'wall':>6} {'cells':>6} {'rest':>6}"]
    for record in sorted(runs.glob("*/run.json")):
        rec = json.loads(record.read_text())
        if rec.get("pipeline", {}).get("run_id") is None:
            continue
        nb = json.loads((record.parent / "output.ipynb").read_text())
        cells = sum(
            (c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0) for c in nb["cells"]
        )
        wall = float(rec.get("duration_s") or 0.0)
        name = f"{rec['pipeline']['step']} {rec['id'][9:15]}"
        lines.append(f"  {name:<26} {wall:>5.2f}s {cells:>5.2f}s {wall - cells:>5.2f}s")
    return lines


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--before", type=Path, help="an older checkout to run side by side")
    args = ap.parse_args(argv)
    variants: list[tuple[str, list[str], Path | None]] = [("forked + preloaded", [], None)]
    if args.before:
        variants.append((f"before ({args.before.name})", [], args.before.resolve()))
    variants.append(("--no-fork (baseline)", ["--no-fork"], None))
    load0 = os.getloadavg()[0]
    results: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _, _ in variants}
    with tempfile.TemporaryDirectory(prefix="mlops-nb-bench-pipeline-") as tmp:
        steps: list[str] = []
        for i in range(args.repeat):  # interleaved: every variant sees the same load
            for label, flags, code in variants:
                work = Path(tmp) / "w"
                results[label].append(once(work, flags, code))
                if i == 0 and not flags and code is None:
                    steps = breakdown(work / "runs")
    rows = {k: [statistics.median(r[i] for r in v) for i in range(3)] for k, v in results.items()}
    print(
        f"main job (notebooks/pipeline.yaml), {os.cpu_count()} CPUs, "
        f"load {load0:.1f} before, {os.getloadavg()[0]:.1f} after, median of {args.repeat}"
    )
    print(f"{'variant':<26} {'first run':>10} {'second run':>11} {'CPU (first)':>12}")
    for label, (first, second, cpu) in rows.items():
        print(f"{label:<26} {first:>9.1f}s {second:>10.2f}s {cpu:>11.1f}s")
    a1, a2, acpu = rows["forked + preloaded"]
    for label, (b1, b2, bcpu) in rows.items():
        if label != "forked + preloaded":
            print(
                f"ratio forked/{label}: first {a1 / b1:.2f}x, second {a2 / b2:.2f}x, "
                f"CPU {acpu / bcpu:.2f}x"
            )
    print(f"targets (idle machine): first <= 15 s: {a1:.1f} s; second <= 1 s: {a2:.2f} s")
    print("first run (forked + preloaded), per step run:", *steps, sep="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
