"""Benchmark: `mlops-nb lint` + `mlops-nb strip --check` over 500 notebooks (30 cells each, with
outputs), one invocation each, against `nbstripout` invoked once per file (how pre-commit setups
built on separate small tools run it).

    python benchmarks/hygiene.py [--notebooks 500] [--cells 30] [--sample 25]

nbstripout per file is timed on a sample of files and extrapolated (said in the output).
Targets: lint + strip --check <= 2 s, and >= 20x faster than nbstripout per file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def make_notebook(index: int, cells: int) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "cell_type": "code",
            "id": "params",
            "execution_count": 1,
            "metadata": {"tags": ["parameters"]},
            "outputs": [],
            "source": ["alpha = 0.5  # learning rate\n", f"seed = {index}\n"],
        }
    ]
    for i in range(2, cells + 1):
        if i % 5 == 0:
            body.append(
                {
                    "cell_type": "markdown",
                    "id": f"md-{i}",
                    "metadata": {},
                    "source": [f"## Step {i}\n", "Some explanation of this step.\n"],
                }
            )
            continue
        outputs: list[dict[str, Any]] = [
            {
                "name": "stdout",
                "output_type": "stream",
                "text": [f"step {i}: {j}\n" for j in range(5)],
            }
        ]
        if i % 3 == 0:
            outputs.append(
                {
                    "data": {"image/png": PNG * 40, "text/plain": ["<Figure>"]},
                    "metadata": {},
                    "output_type": "display_data",
                }
            )
        else:
            outputs.append(
                {
                    "data": {"text/plain": [f"{i * alpha_value(index)}"]},
                    "execution_count": len([c for c in body if c["cell_type"] == "code"]) + 1,
                    "metadata": {},
                    "output_type": "execute_result",
                }
            )
        n = len([c for c in body if c["cell_type"] == "code"]) + 1
        if "execution_count" in outputs[-1]:
            outputs[-1]["execution_count"] = n
        body.append(
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "execution_count": n,
                "metadata": {"ExecuteTime": {"end_time": "2026-11-27T10:00:00"}},
                "outputs": outputs,
                "source": [f"x{i} = step_{i}(alpha, seed)\n", f"x{i}.summary()\n"],
            }
        )
    return {
        "cells": body,
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.9"},
        },
    }


def alpha_value(index: int) -> float:
    return 0.5 + index / 1000


def timed(cmd: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=500)
    parser.add_argument("--cells", type=int, default=30)
    parser.add_argument("--sample", type=int, default=25, help="files timed with nbstripout")
    args = parser.parse_args()
    nbstripout = shutil.which("nbstripout") or str(Path(sys.executable).parent / "nbstripout")

    with tempfile.TemporaryDirectory(prefix="mlops-nb-bench-") as tmp:
        folder = Path(tmp) / "notebooks"
        folder.mkdir()
        for i in range(args.notebooks):
            nb = make_notebook(i, args.cells)
            (folder / f"nb{i:04d}.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        print(f"{args.notebooks} notebooks x {args.cells} cells, with outputs ({size_mb:.1f} MB)")

        ours = [sys.executable, "-m", "mlops_nb"]
        t_lint, rc_lint = timed([*ours, "lint", str(folder)])
        t_check, rc_check = timed([*ours, "strip", "--check", str(folder)])
        t_ours = t_lint + t_check
        print(f"mlops-nb lint DIR           : {t_lint:6.2f} s (exit {rc_lint})")
        print(f"mlops-nb strip --check DIR  : {t_check:6.2f} s (exit {rc_check}: would strip)")
        print(f"mlops-nb total              : {t_ours:6.2f} s  (target <= 2 s)")

        files = sorted(folder.iterdir())
        sample = files[: min(args.sample, len(files))]
        per_file = [timed([nbstripout, "--dry-run", str(f)])[0] for f in sample]
        t_each = statistics.mean(per_file)
        t_nbs = t_each * len(files)
        print(
            f"nbstripout --dry-run FILE   : {t_each:6.3f} s per file (mean of {len(sample)}), "
            f"x {len(files)} files = {t_nbs:6.1f} s (extrapolated)"
        )
        t_once, _ = timed([nbstripout, "--dry-run", *map(str, files)])
        print(f"nbstripout --dry-run (1 call, all files, for reference): {t_once:6.2f} s")
        ratio = t_nbs / t_ours
        print(
            f"ratio nbstripout-per-file / mlops-nb lint+strip --check: {ratio:.0f}x  "
            f"(target >= 20x)"
        )
        ok = t_ours <= 2.0 and ratio >= 20
        print("targets met" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
