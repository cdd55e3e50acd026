"""Benchmark: the HTML report of the example pipeline, and of a store of N runs.

Example (the default): runs the example pipeline once for real into a temporary store, then
times `mlops-nb report --pipeline example` end to end (a subprocess: imports, collect, plots,
images, writing; wall clock and CPU time, which a shared machine's load inflates less) and
`build_report` in this process (warm imports), and prints the figures against the target (<= 5 s
end to end). With a git ref (e.g. the commit before the redesign) the same command of that
version runs side by side on the same store, interleaved, as the baseline.

`--runs N` (issue 18: 100,000): builds a store of N runs the way benchmarks/collect.py does (3
real runs replicated in run.json, 1,000 runs a sweep), warms its index, and times `mlops-nb
report` over all of it end to end: every section drawn anew (`--no-cache`), the
first report (it fills the report cache), the report when nothing changed since (a target),
the report after one run was added to a sweep (that section and the durations redrawn), and the
report after a sweep added 20 runs to the newest section (indexed as runs index themselves: the
case users hit after every sweep, a target too; with a git ref, that version's figure for the
same change, interleaved), and the report after a new sweep of 20 runs (a new section, small
enough for seaborn's figures). `--store DIR`
keeps the store there for the next run (building 100,000 folders and their index takes minutes).
A git ref (e.g. ``00bd28a``, the report before its cache) is the baseline: it draws the page as
many times as the report drawn anew, interleaved with it (the same load), and the ratio of the
two is printed.
Usage: python benchmarks/report.py [REPEATS] [BASELINE_REF] [--runs N [--store DIR]]
(default: 5 repeats, no baseline, the example pipeline)
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 5.0
OLD_S = (3.0, 6.0)  # the report before issue 17, fewer plots (its issue's figure)


def main(argv: list[str]) -> int:
    if "--runs" in argv:
        return scale(argv)
    repeats = int(argv[0]) if argv else 5
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(
            REPO / "notebooks", work / "notebooks", ignore=shutil.ignore_patterns("runs")
        )
        runs = work / "runs"
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mlops_nb",
                "pipeline",
                "run",
                "notebooks/pipeline.yaml",
                "--runs-dir",
                str(runs),
            ],
            cwd=work,
            check=True,
            capture_output=True,
        )
        print(f"example pipeline run: {time.perf_counter() - t0:.1f} s (setup, not measured)")
        old_src = _checkout(argv[1], work) if len(argv) > 1 else None
        cli, cpu, base, base_cpu = [], [], [], []
        for _ in range(repeats):
            wall, used = _report(runs, work, None)
            cli.append(wall)
            cpu.append(used)
            if old_src:
                wall, used = _report(runs, work, old_src)
                base.append(wall)
                base_cpu.append(used)
        from mlops_nb.report import build_report

        warm = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            build_report(runs, output=work / "w.html", pipeline="example", sort="f1")
            warm.append(time.perf_counter() - t0)
        size = (work / "r.html").stat().st_size
        plots = (work / "r.html").read_text(encoding="utf-8").count('<figure class="plot">')
    med = statistics.median(cli)
    print(f"report page: {size / 1024:.0f} KiB, {plots} plots")
    print(
        f"mlops-nb report (end to end), median of {repeats}: {med:.2f} s "
        f"(min {min(cli):.2f}, max {max(cli):.2f}); CPU {statistics.median(cpu):.2f} s"
    )
    if base:
        print(
            f"baseline {argv[1][:12]}: {statistics.median(base):.2f} s, CPU "
            f"{statistics.median(base_cpu):.2f} s; ratio (wall) "
            f"{med / statistics.median(base):.2f}, (CPU) "
            f"{statistics.median(cpu) / statistics.median(base_cpu):.2f}"
        )
    print(f"build_report in-process (warm imports), median: {statistics.median(warm):.2f} s")
    print(
        f"target <= {TARGET_S:.0f} s: ratio {med / TARGET_S:.2f}; "
        f"old report {OLD_S[0]:.0f}-{OLD_S[1]:.0f} s with 4 plots"
    )
    return 0 if med <= TARGET_S else 1


def _checkout(ref: str, work: Path) -> Path:
    """The package as it was at ``ref`` (git archive), to run the old report from."""
    dest = work / "baseline-src"
    dest.mkdir()
    archive = subprocess.run(
        ["git", "archive", ref, "mlops_nb"], cwd=REPO, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def _report(
    runs: Path, work: Path, src: Path | None, filters: Sequence[str] = ("--pipeline", "example")
) -> tuple[float, float]:
    """Wall clock and CPU seconds (user + system) of one `mlops-nb report` subprocess."""
    env = dict(os.environ, PYTHONPATH=str(src)) if src else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mlops_nb",
            "report",
            "--runs-dir",
            str(runs),
            *filters,
            "--sort",
            "f1",
            "-o",
            str(work / "r.html" if not src else work / "old.html"),
        ],
        cwd=work,
        check=True,
        capture_output=True,
        env=env,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, used


SCALE_TARGET_S = 1.0  # issue 18: interactive at 100,000 runs


def scale(argv: list[str]) -> int:
    """``--runs N``: the report of a store of N runs (module doc)."""
    args = [a for a in argv if not a.startswith("--")]
    n = int(argv[argv.index("--runs") + 1])
    args.remove(str(n))
    store_arg = argv[argv.index("--store") + 1] if "--store" in argv else None
    if store_arg:
        args.remove(store_arg)
    repeats = int(args[0]) if args else 3
    with tempfile.TemporaryDirectory(prefix="mlops-nb-report-") as tmp:
        work = Path(store_arg) if store_arg else Path(tmp)
        runs = _store(work, n)
        old_src = _checkout(args[1], Path(tmp)) if len(args) > 1 else None
        from mlops_nb.report import cache as caching

        shutil.rmtree(caching.folder(runs), ignore_errors=True)  # the first report draws all
        load = os.getloadavg()[0]
        drawn, base = [], []
        for _ in range(repeats):  # interleaved with the version given, if any: the same load
            drawn.append(_report(runs, work, None, ("--no-cache",)))
            if old_src:
                base.append(_report(runs, work, old_src, _cacheless(old_src)))
        first = _report(runs, work, None, ())
        warm = [_report(runs, work, None, ()) for _ in range(repeats)]
        added: list[Path] = []
        changed, swept, base_swept, new_sweep = [], [], [], []
        try:
            for i in range(repeats):
                added.append(_add_run(runs, i))
                changed.append(_report(runs, work, None, ()))
            for i in range(repeats):  # each version's cache warm, then a sweep adds runs
                if old_src:
                    _report(runs, work, old_src, ())
                _report(runs, work, None, ())
                added += _add_sweep_runs(runs, SWEEP_RUNS, i)
                swept.append(_report(runs, work, None, ()))
                if old_src:
                    base_swept.append(_report(runs, work, old_src, ()))
            for i in range(repeats):  # a new sweep: a new section of 20 runs (seaborn draws it)
                _report(runs, work, None, ())
                added += _add_sweep_runs(runs, SWEEP_RUNS, i, f"new-sweep-{i}")
                new_sweep.append(_report(runs, work, None, ()))
        finally:
            for folder in added:
                shutil.rmtree(folder, ignore_errors=True)
        import mlops_nb

        mlops_nb.collect(runs)  # warm: pandas imported, index open
        t0 = time.perf_counter()
        mlops_nb.collect(runs)
        collect_wall = time.perf_counter() - t0
        size = (work / "r.html").stat().st_size
    print(
        f"{os.cpu_count()} CPUs, load {load:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"{n:,} runs, page {size / 1024:.0f} KiB"
    )
    rows = [
        ("every section drawn anew (--no-cache)", drawn),
        ("first report (draws every section, fills the cache)", [first]),
        ("nothing changed since (from the cache)", warm),
        ("one run added to a sweep since (that section redrawn)", changed),
        (f"a sweep added {SWEEP_RUNS} runs to the newest section since (the target)", swept),
        (f"a new sweep of {SWEEP_RUNS} runs since (a new section)", new_sweep),
    ]
    base_wall, base_cpu = _medians(drawn)
    for label, times in rows:
        wall, cpu = _medians(times)
        print(
            f"mlops-nb report, {label}: {wall:.2f} s (median of {len(times)}; CPU {cpu:.2f} s); "
            f"ratio to drawn anew {wall / base_wall:.2f}"
        )
    print(f"collect() of the same store (in process, warm), for scale: {collect_wall:.2f} s")
    if base:
        old_wall, old_cpu = _medians(base)
        print(
            f"version {args[1][:12]} (the baseline), every section drawn: {old_wall:.2f} s "
            f"(median of {len(base)}; CPU {old_cpu:.2f} s); drawn anew / baseline: wall "
            f"{base_wall / old_wall:.2f}, CPU "
            f"{base_cpu / old_cpu:.2f}"
        )
    if base_swept:
        old_wall, old_cpu = _medians(base_swept)
        new_wall, new_cpu = _medians(swept)
        print(
            f"version {args[1][:12]} (the baseline), a sweep added {SWEEP_RUNS} runs: "
            f"{old_wall:.2f} s (CPU {old_cpu:.2f} s); this one / baseline: wall "
            f"{new_wall / old_wall:.2f}, CPU {new_cpu / old_cpu:.2f}"
        )
    med = statistics.median(w for w, _ in warm)
    print(f"target <= {SCALE_TARGET_S:.0f} s (nothing changed): ratio {med / SCALE_TARGET_S:.2f}")
    swept_med = statistics.median(w for w, _ in swept)
    print(
        f"target <= {SCALE_TARGET_S:.0f} s (a sweep changed one section): ratio "
        f"{swept_med / SCALE_TARGET_S:.2f}"
    )
    return 0 if med <= SCALE_TARGET_S and swept_med <= SCALE_TARGET_S else 1


def _medians(times: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The median wall and the median CPU seconds of ``(wall, cpu)`` timings."""
    return statistics.median(w for w, _ in times), statistics.median(c for _, c in times)


def _cacheless(src: Path) -> tuple[str, ...]:
    """``--no-cache`` for a version that has the report cache (its ``report/cache.py``)."""
    return ("--no-cache",) if (src / "mlops_nb" / "report" / "cache.py").is_file() else ()


def _add_run(runs: Path, i: int) -> Path:
    """A copy of the store's first run as a new run of its sweep, the best of it (a new id, a
    new f1): the next report must draw that sweep's section anew."""
    import json

    from mlops_nb.store import runs as store

    src = next(p for p in sorted(runs.iterdir()) if store.is_run_id(p.name))
    dest = runs / store.new_run_id(None)
    shutil.copytree(src, dest)
    record = json.loads((dest / "run.json").read_text(encoding="utf-8"))
    record["id"] = dest.name
    record.setdefault("scraps", {})["f1"] = 1.0 + i
    (dest / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return dest


SWEEP_RUNS = 20  # what a sweep adds to one section between two reports


def _add_sweep_runs(runs: Path, n: int, i: int, sweep: str | None = None) -> list[Path]:
    """``n`` new runs of the newest sweep (``sweep``: of a new sweep of that id; copies of the
    newest run, new ids and values), each indexed as a finished run indexes itself
    (``index.update_run``): the next report finds the index up to date and that one section
    changed or new (it is shown in full: its figures drawn)."""
    import json

    from mlops_nb.store import index
    from mlops_nb.store import runs as store

    newest = max(p.name for p in runs.iterdir() if store.is_run_id(p.name))
    if sweep is None:
        sweep = json.loads((runs / newest / "run.json").read_text(encoding="utf-8"))["sweep_id"]
    out = []
    for k in range(n):
        dest = runs / store.new_run_id(None)
        shutil.copytree(runs / newest, dest)
        record = json.loads((dest / "run.json").read_text(encoding="utf-8"))
        record.update(id=dest.name, sweep_id=sweep)
        record.setdefault("scraps", {})["f1"] = 0.5 + (i * n + k) / (10 * n * n)
        record.setdefault("params", {})["C"] = float(i * n + k)
        (dest / "run.json").write_text(json.dumps(record), encoding="utf-8")
        index.update_run(dest, record)
        out.append(dest)
    return out


def _store(work: Path, n: int) -> Path:
    """``work/runs`` with ``n`` runs (made now unless it has them) and a warm index."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import collect as stores

    from mlops_nb.store import index

    runs = work / "runs"
    if not (runs / index.INDEX).is_file():
        t0 = time.perf_counter()
        stores.replicate(stores.seed_runs(work), runs, n, notebooks=False)
        index.rebuild(runs)
        print(f"store of {n:,} runs: {time.perf_counter() - t0:.0f} s (setup, not measured)")
    subprocess.run(
        [sys.executable, "-m", "mlops_nb", "reindex", "--runs-dir", str(runs)],
        check=True,
        capture_output=True,
    )
    return runs


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
