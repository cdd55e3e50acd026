"""Fault storm: N sweeps killed at random moments in random ways, each re-invoked to resume.

Each round starts `mlops-nb sweep` (8 sets, 2 workers, runs of 0.2-1.5 s) in a store of its own,
waits a random 0.5-6 s, then sends one of: SIGINT, SIGTERM (to the driver), SIGKILL to the
driver, SIGKILL to its whole process group. It then re-invokes the sweep (no fault) and checks:

- sets done exactly once: every set has exactly one `ok` run in the store;
- records stuck: records any reader (`collect`) still shows `running`;
- orphans: processes of the killed sweep (workers, fork server, kernels) still alive after the
  resume, plus socket files of dead processes left in the temp folder.

Prints one line per round and the totals; expected N/N, 0, 0.
Usage: python benchmarks/faults.py [--rounds 10] [--seed 0]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

KILLS = ("SIGINT", "SIGTERM", "SIGKILL driver", "SIGKILL group")
SETS = 8
NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "id": "p",
            "metadata": {"tags": ["parameters"]},
            "source": "i = 0\ns = 0.5",
            "outputs": [],
            "execution_count": None,
        },
        {
            "cell_type": "code",
            "id": "c",
            "metadata": {},
            "source": "import time\ntime.sleep(s)\nprint(i)",
            "outputs": [],
            "execution_count": None,
        },
    ],
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def sweep_cmd(work: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mlops_nb",
        "sweep",
        str(work / "nb.ipynb"),
        "--list",
        str(work / "sets.yaml"),
        "--runs-dir",
        str(work / "runs"),
        "--workers",
        "2",
    ]


def one_round(work: Path, rng: random.Random) -> dict[str, object]:
    work.mkdir()
    (work / "nb.ipynb").write_text(json.dumps(NOTEBOOK))
    sets = [{"i": i, "s": round(rng.uniform(0.2, 1.5), 2)} for i in range(SETS)]
    (work / "sets.yaml").write_text(json.dumps(sets))
    kill = rng.choice(KILLS)
    proc = subprocess.Popen(
        sweep_cmd(work),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(rng.uniform(0.5, 6.0))  # a random moment, on purpose
    tree = []
    with contextlib.suppress(psutil.Error):
        tree = psutil.Process(proc.pid).children(recursive=True)
    if proc.poll() is None:
        if kill == "SIGKILL group":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(getattr(signal, kill.split()[0]))
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    resume = subprocess.run(sweep_cmd(work), capture_output=True, text=True)
    rows = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mlops_nb",
                "collect",
                "--runs-dir",
                str(work / "runs"),
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        or "[]"
    )
    ok = [r["params.i"] for r in rows if r["status"] == "ok"]
    _, alive = psutil.wait_procs(tree, timeout=5)
    alive = [p for p in alive if _not_zombie(p)]
    tmp = Path(tempfile.gettempdir())
    sockets = [f for p in tree for f in tmp.glob(f"mlops-nb-{p.pid}-*")]
    return {
        "kill": kill,
        "resume_rc": resume.returncode,
        "once": sorted(ok) == list(range(SETS)),
        "stuck": sum(1 for r in rows if r["status"] == "running"),
        "lost": sum(1 for r in rows if r["status"] == "lost"),
        "orphans": len(alive) + len(sockets),
    }


def _not_zombie(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results = []
    with tempfile.TemporaryDirectory(prefix="mlops-nb-storm-") as d:
        for n in range(args.rounds):
            r = one_round(Path(d) / f"round{n}", rng)
            results.append(r)
            print(
                f"round {n}: {r['kill']:<15} resume exit {r['resume_rc']}  "
                f"once={r['once']}  stuck={r['stuck']}  lost={r['lost']}  "
                f"orphans={r['orphans']}",
                flush=True,
            )
    once = sum(1 for r in results if r["once"])
    print(
        f"sets done exactly once: {once}/{len(results)} rounds (expected {len(results)}/{len(results)})"
    )
    print(f"records stuck running:  {sum(int(str(r['stuck'])) for r in results)} (expected 0)")
    print(
        f"orphans (processes + socket files): "
        f"{sum(int(str(r['orphans'])) for r in results)} (expected 0)"
    )


if __name__ == "__main__":
    main()
