"""Benchmark: collecting results across N runs (index vs scrapbook).

Builds N run folders in the store's real format (3 real runs executed with papermill, then
replicated with new ids, parameters and scraps in run.json and output.ipynb), then times in one
process: `reindex`, `mlops_nb.collect()` with a warm index, `mlops-nb collect --format csv` end to
end (a subprocess), and `scrapbook.read_notebook` on every output notebook + building the same
DataFrame. Usage: python benchmarks/collect.py [N ...]   (default: 1000 10000)
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
from mlops_nb.store import index
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
        book = sb.read_notebook(str(folder / store.OUTPUT))
        row = {"id": folder.name}
        row.update({f"params.{k}": v for k, v in book.parameters.items()})
        row.update({f"scraps.{k}": v for k, v in book.scraps.data_dict.items()})
        rows.append(row)
    return pd.DataFrame(rows).convert_dtypes()


def bench(seeds: list[Path], work: Path, n: int) -> dict[str, float]:
    runs_dir = work / f"runs-{n}"
    t = time.perf_counter()
    replicate(seeds, runs_dir, n)
    build_s = time.perf_counter() - t
    reindex_s = timed(lambda: index.rebuild(runs_dir), repeat=3)
    mlops_nb.collect(runs_dir)  # warm: index open, pandas imported
    collect_s = timed(lambda: mlops_nb.collect(runs_dir))
    df = mlops_nb.collect(runs_dir)
    assert len(df) == n, len(df)
    cli = [
        sys.executable,
        "-m",
        "mlops_nb",
        "collect",
        "--format",
        "csv",
        "--runs-dir",
        str(runs_dir),
    ]
    cli_s = timed(lambda: subprocess.run(cli, check=True, stdout=subprocess.DEVNULL), repeat=3)
    t = time.perf_counter()
    import scrapbook  # noqa: F401

    import_sb = time.perf_counter() - t
    t = time.perf_counter()
    sb_df = scrapbook_frame(runs_dir)
    sb_s = time.perf_counter() - t
    assert len(sb_df) == n
    assert sb_df["scraps.f1"].tolist() == df["scraps.f1"].tolist()
    return {
        "n": n,
        "build folders": build_s,
        "reindex": reindex_s,
        "collect() warm": collect_s,
        "CLI csv": cli_s,
        "scrapbook": sb_s,
        "import scrapbook": import_sb,
    }


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [1000, 10000]
    with tempfile.TemporaryDirectory(prefix="mlops-nb-bench-") as tmp:
        work = Path(tmp)
        seeds = seed_runs(work)
        results = [bench(seeds, work, n) for n in sizes]
    print(
        f"{'runs':>6} {'reindex':>9} {'collect()':>10} {'CLI csv':>9} {'scrapbook':>10} "
        f"{'ratio':>7} {'CLI ratio':>9}"
    )
    for r in results:
        print(
            f"{r['n']:>6} {r['reindex']:>8.3f}s {r['collect() warm']:>9.3f}s {r['CLI csv']:>8.3f}s "
            f"{r['scrapbook']:>9.2f}s {r['scrapbook'] / r['collect() warm']:>6.0f}x "
            f"{r['scrapbook'] / r['CLI csv']:>8.0f}x"
        )
    print(
        "(medians; scrapbook excludes its import, "
        + ", ".join(f"{r['import scrapbook']:.2f}s" for r in results)
        + ")"
    )
    for r in results:
        ok = (
            r["collect() warm"] <= 0.5
            and r["CLI csv"] <= 2.0
            and r["scrapbook"] >= 100 * r["collect() warm"]
        )
        if r["n"] >= 10000:
            print(
                f"targets at {r['n']}: collect <= 0.5 s, CLI <= 2 s, >= 100x: {'met' if ok else 'MISSED'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
