"""Benchmark: writing the sweep record of a large sweep, which the driver does about once a
second while runs finish (``sweep.drive._Book.flush``).

Measures, for N sets (finished, with params, attempts and errors like a real record):
  (a) what both the 0.1.x driver and this one do per write: ``strict_json.dumps`` of the JSON
      object (0.1.x kept that object up to date in place and recomputed its counts)
  (b) what this driver adds per write: the typed record rebuilt from its entries
      (``dataclasses.replace``) and turned into that object (``SweepRecord.to_json``)
  (c) reading a record back: ``SweepRecord.from_json`` of the parsed object (a resume)
Prints milliseconds (best of R) and the added share (b)/(a). No disk writes (the same in both).
Usage: python benchmarks/sweep_record.py [--sets 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Callable

from mlops_nb import strict_json
from mlops_nb.sweep import record
from mlops_nb.sweep.record import Options, SweepEntry, SweepRecord


def make(n: int) -> tuple[SweepRecord, list[SweepEntry]]:
    entries = [
        SweepEntry(
            index=i,
            params={"lr": 0.001 * i, "depth": i % 7, "name": f"set-{i}"},
            key=f"{i:064x}",
            status="ok" if i % 5 else "failed",
            run_id=f"20261130T070000.{i:06d}Z-abcdef",
            attempts=(f"20261130T070000.{i:06d}Z-abcdef",),
            error=None if i % 5 else "ValueError: boom in cell 2",
            duration_s=1.5,
        )
        for i in range(n)
    ]
    head = SweepRecord(
        id="train-0123456789ab",
        notebook={"path": "train.ipynb", "abspath": "/p/train.ipynb", "code_sha256": "0" * 64},
        status="running",
        owner={"host": "h", "pid": 1, "boot_id": "b", "pid_started": 2},
        invocations=1,
        executor="local",
        workers=2,
        options=Options(preload=("pandas",)),
    )
    return head, entries


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    head, entries = make(args.sets)
    as_dict = dataclasses.replace(head, runs=tuple(entries)).to_json()  # the 0.1.x live dict

    def baseline() -> str:
        as_dict["counts"] = record.counts(entries)
        return strict_json.dumps(as_dict, indent=2, ensure_ascii=False, default=str)

    def added() -> dict[str, object]:
        return dataclasses.replace(head, runs=tuple(entries)).to_json()

    parsed = json.loads(baseline())
    a, b = best(baseline, args.repeat), best(added, args.repeat)
    c = best(lambda: record.SweepRecord.from_json(parsed), args.repeat)
    print(f"sweep record, {args.sets} sets, best of {args.repeat} (ms)")
    print(f"  (a) dumps, per write (0.1.x and now)   : {a:8.1f}")
    print(f"  (b) added per write: replace + to_json : {b:8.1f}   (b)/(a) {b / a:.3f}")
    print(f"  (c) from_json, per resume              : {c:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
