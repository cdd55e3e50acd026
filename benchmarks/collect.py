"""Benchmark: the runs store at N runs (index vs a scan of the folders vs scrapbook).

Builds N run folders in the store's real format (3 real runs executed with papermill, then
replicated with new ids, parameters and scraps in run.json, and in output.ipynb up to 10,000),
then times: `reindex --full`; 100 new folders and `mlops-nb reindex` (incremental), and again
with nothing new; `mlops_nb.collect()` with a warm index (in process; wall and CPU time); `mlops-nb collect
--format csv`, `show RUN` and `diff A B`, by id and by id prefix, end to end (subprocesses); a
run by id prefix in process, through the index and by listing the folders (the lookup before);
the index check with nothing new (``query.sync``: a digest of the folder's listing) against
the comparison of every name with every indexed id that it replaces (its kept digest dropped);
the baseline, a json.load scan of every
run.json; and up to 10,000 runs `scrapbook.read_notebook` on every output notebook + building
the same DataFrame. Usage: python benchmarks/collect.py [N ...]   (default: 1000 10000 100000)
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import mlops_nb
from mlops_nb.store import fastpath, index, lookup, query
from mlops_nb.store import runs as store

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests import nbbuild as b  # noqa: E402

sys.path.insert(0, str(HERE))
import _notebooks  # noqa: E402


def seed_runs(work: Path) -> list[Path]:
    nb = b.write(
        work / "train.ipynb",
        b.params('C = 1.0\nmodel = "rf"\nn = 10'),
        b.code(
            "import scrapbook as sb\n"
            "sb.glue('f1', 0.5 + C / 10)\nsb.glue('acc', 0.9)\nsb.glue('n_rows', n * 100)\n"
            "sb.glue('label', model)"
        ),
    )
    seeds = work / "seed-runs"
    return [
        mlops_nb.run(nb, {"C": c, "model": m}, runs_dir=seeds).path
        for c, m in [(0.1, "rf"), (1.0, "lr"), (10.0, "svm")]
    ]


def _set_scraps(nb: dict[str, Any], scraps: dict[str, Any]) -> None:
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            for mime, payload in out.get("data", {}).items():
                if mime.startswith("application/scrapbook.scrap.") and payload["name"] in scraps:
                    payload["data"] = scraps[payload["name"]]


def replicate(seeds: list[Path], runs_dir: Path, n: int, *, notebooks: bool = True) -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    templates = [
        (
            store.read_record(s),
            json.loads((s / store.OUTPUT).read_text()),
            (s / store.ENVIRONMENT).read_text(),
        )
        for s in seeds
    ]
    for i in range(n):
        record, nb, env = templates[i % len(templates)]
        run_id = store.new_run_id(None, now=t0 + dt.timedelta(seconds=i))
        folder = runs_dir / run_id
        folder.mkdir(parents=True)
        params = {"C": round(0.01 * (i % 997), 4), "model": ["rf", "lr", "svm"][i % 3], "n": i % 50}
        scraps = {
            "f1": 0.5 + (i % 997) / 2000,
            "acc": 0.9,
            "n_rows": params["n"] * 100,
            "label": params["model"],
        }
        rec = {
            **record,
            "id": run_id,
            "params": params,
            "scraps": scraps,
            "sweep_id": f"sweep-{i // 1000}",
            "key": f"k{i}",
        }
        if notebooks:  # only the scrapbook comparison reads them
            out = copy.deepcopy(nb)
            _set_scraps(out, scraps)
            out["metadata"]["papermill"]["parameters"] = params
            (folder / store.OUTPUT).write_text(json.dumps(out))
        (folder / store.ENVIRONMENT).write_text(env)
        (folder / store.RECORD).write_text(json.dumps(rec, indent=2))


def timed(fn: Any, repeat: int = 5) -> float:
    return _notebooks.timed(fn, repeat)


def scrapbook_frame(runs_dir: Path) -> Any:
    import pandas as pd
    import scrapbook as sb

    rows = []
    for folder in store.iter_run_folders(runs_dir):
        if not (folder / store.OUTPUT).is_file():
            continue
        book = sb.read_notebook(str(folder / store.OUTPUT))
        row = {"id": folder.name}
        row.update({f"params.{k}": v for k, v in book.parameters.items()})
        row.update({f"scraps.{k}": v for k, v in book.scraps.data_dict.items()})
        rows.append(row)
    return pd.DataFrame(rows).convert_dtypes()


SCRAPBOOK_MAX = 10000  # above this scrapbook would take minutes; the JSON scan is the baseline


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mlops_nb", *args]


def json_scan(runs_dir: Path) -> int:
    """The baseline without an index: read every run.json."""
    n = 0
    for folder in store.iter_run_folders(runs_dir):
        json.loads((folder / store.RECORD).read_text())
        n += 1
    return n


def _compare_every_name(runs_dir: Path) -> None:
    """The index check as it was: its kept digest dropped, every name compared (and the digest
    kept again: one small write more than before)."""
    conn = index.open_index(runs_dir, sync=False)
    try:
        with index._transaction(conn):
            fastpath.forget(conn)
    finally:
        conn.close()
    query.sync(runs_dir)


def bench(seeds: list[Path], work: Path, n: int) -> dict[str, float]:
    runs_dir = work / f"runs-{n}"
    t = time.perf_counter()
    replicate(seeds, runs_dir, n, notebooks=n <= SCRAPBOOK_MAX)
    build_s = time.perf_counter() - t
    full_s = timed(lambda: index.rebuild(runs_dir), repeat=3)
    more = work / f"more-{n}"
    replicate(seeds, more, 100, notebooks=False)  # 100 new runs, then an incremental reindex
    for f in store.iter_run_folders(more):
        f.rename(runs_dir / f.name)  # ids end in random hex: no clash
    reindex = cli("reindex", "--runs-dir", str(runs_dir))
    incr_s = timed(lambda: subprocess.run(reindex, check=True, stdout=subprocess.DEVNULL), 1)
    incr0_s = timed(lambda: subprocess.run(reindex, check=True, stdout=subprocess.DEVNULL), 3)
    n += 100
    mlops_nb.collect(runs_dir)  # warm: index open, pandas imported
    collect_s = timed(lambda: mlops_nb.collect(runs_dir))
    df = mlops_nb.collect(runs_dir)
    assert len(df) == n, len(df)
    csv = cli("collect", "--format", "csv", "--runs-dir", str(runs_dir))
    cli_s = timed(lambda: subprocess.run(csv, check=True, stdout=subprocess.DEVNULL), repeat=3)
    ids = df["id"].tolist()
    show = cli("show", ids[n // 2], "--runs-dir", str(runs_dir))
    show_s = timed(lambda: subprocess.run(show, check=True, stdout=subprocess.DEVNULL), 3)
    diff = cli("diff", ids[1], ids[-2], "--runs-dir", str(runs_dir))
    diff_s = timed(lambda: subprocess.run(diff, stdout=subprocess.DEVNULL), 3)
    # id prefixes (to the second: unique here), resolved through the index
    a, b = ids[n // 2][:15], ids[n // 2 + 1][:15]
    show_p = cli("show", a, "--runs-dir", str(runs_dir))
    show_p_s = timed(lambda: subprocess.run(show_p, check=True, stdout=subprocess.DEVNULL), 3)
    diff_p = cli("diff", a, b, "--runs-dir", str(runs_dir))
    diff_p_s = timed(lambda: subprocess.run(diff_p, check=True, stdout=subprocess.DEVNULL), 3)
    by_folders_s = timed(lambda: store.resolve_run(runs_dir, a), 3)  # the lookup before
    by_index_s = timed(lambda: lookup.resolve_run(runs_dir, a), 3)
    cpu = time.process_time()
    mlops_nb.collect(runs_dir)
    collect_cpu = time.process_time() - cpu
    query.sync(runs_dir)
    check_s = timed(lambda: query.sync(runs_dir), 5)
    compare_s = timed(lambda: _compare_every_name(runs_dir), 5)
    scan_s = timed(lambda: json_scan(runs_dir), repeat=1)
    out = {
        "n": n,
        "build folders": build_s,
        "reindex --full": full_s,
        "reindex (100 new)": incr_s,
        "reindex (nothing new)": incr0_s,
        "collect() warm": collect_s,
        "CLI csv": cli_s,
        "collect() CPU": collect_cpu,
        "show": show_s,
        "diff": diff_s,
        "show PREFIX": show_p_s,
        "diff PREFIXES": diff_p_s,
        "prefix: folders": by_folders_s,
        "prefix: index": by_index_s,
        "check": check_s,
        "check: compare": compare_s,
        "json scan": scan_s,
    }
    if n <= SCRAPBOOK_MAX + 100:
        t = time.perf_counter()
        import scrapbook  # noqa: F401

        out["import scrapbook"] = time.perf_counter() - t
        t = time.perf_counter()
        sb_df = scrapbook_frame(runs_dir)
        out["scrapbook"] = time.perf_counter() - t
        assert len(sb_df) == n - 100  # the 100 added runs have no output notebook
    return out


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [1000, 10000, 100000]
    with tempfile.TemporaryDirectory(prefix="mlops-nb-bench-") as tmp:
        work = Path(tmp)
        seeds = seed_runs(work)
        results = [bench(seeds, work, n) for n in sizes]
    import os

    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} (seconds; medians)")
    cols = [
        "reindex --full",
        "reindex (100 new)",
        "reindex (nothing new)",
        "collect() warm",
        "collect() CPU",
        "CLI csv",
        "show",
        "diff",
        "show PREFIX",
        "diff PREFIXES",
        "prefix: folders",
        "prefix: index",
        "check",
        "check: compare",
        "json scan",
        "scrapbook",
    ]
    for part in (cols[:6], cols[6:]):
        print(f"{'runs':>7} " + " ".join(f"{c:>15}" for c in part))
        for r in results:
            print(
                f"{r['n']:>7} "
                + " ".join(f"{r[c]:>15.3f}" if c in r else f"{'-':>15}" for c in part)
            )
    print("baseline: a json.load scan of every run.json (and scrapbook up to 10,000 runs)")
    for r in results:
        ratio = f"collect() {r['json scan'] / r['collect() warm']:.0f}x faster than the scan"
        if "scrapbook" in r:
            ratio += f", {r['scrapbook'] / r['collect() warm']:.0f}x faster than scrapbook"
        ratio += f"; a run by id prefix {r['prefix: folders'] / r['prefix: index']:.0f}x faster"
        print(f"{r['n']:>7}: {ratio}")
    print("baseline of the prefix lookup: runs.resolve_run, which lists every run folder")
    print("check: the index check with nothing new; check: compare, every name compared (before)")
    for r in results:
        n = r["n"] - 100
        if n in (10000, 100000):
            goal = {10000: (0.1, 0.5), 100000: (1.0, None)}[n]
            met = r["collect() warm"] <= goal[0] and (goal[1] is None or r["CLI csv"] <= goal[1])
            interactive = max(r[c] for c in ("show", "diff", "show PREFIX", "diff PREFIXES")) <= 1
            print(
                f"targets at {n}: collect() <= {goal[0]} s"
                + (f", CLI csv <= {goal[1]} s" if goal[1] else "")
                + f": {'met' if met else 'MISSED'}; show/diff <= 1 s: "
                + ("met" if interactive else "MISSED")
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
