"""Benchmark: exporting N runs to a fresh MLflow SQLite store, and the no-op re-export.

Builds N run folders in the store's real format (3 real runs executed with papermill, replicated
as in benchmarks/collect.py: one sweep, parameters, 4 scraps, output notebook, record and
environment as artifacts), then, in one process with mlflow already imported and each store
migrated beforehand (migrations are not export work):

- `mlops_nb.export("mlflow", all_runs=True)`: runs + their sweep parent, params, metrics, tags,
  artifacts, original times and statuses;
- the same again (nothing to do: answered from the exports table), in process and as the CLI
  `mlops-nb export mlflow --all` end to end (a subprocess: Python start-up included);
- the same export into a store MLflow created itself (rollback journal; mlops-nb creates a new
  store in WAL mode, which syncs once per commit instead of three times);
- the baseline: what a user would write with MLflow's fluent API, one run at a time
  (`start_run`, `log_params`, `log_metrics`, `set_tags`, `log_artifact` x 3, `end_run`).

Usage: python benchmarks/export.py [N]   (default 1000; needs `pip install -e '.[mlflow]'`)
Targets: first export >= 2x faster than the baseline; re-export of 1,000 runs <= 1 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlops_nb
from mlops_nb.store import index
from mlops_nb.store import runs as store

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from collect import replicate, seed_runs  # noqa: E402


def migrated_store(path: Path, *, ours: bool) -> str:
    """A fresh store, migrated: created as mlops-nb creates one (WAL) or as MLflow does."""
    from mlflow.tracking import MlflowClient

    from mlops_nb.tracking.mlflow_adapter import new_sqlite_store

    uri = f"sqlite:///{path}"
    if ours:
        new_sqlite_store(uri)
    MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
    return uri


def baseline(runs_dir: Path, uri: str) -> float:
    """The plain script a user would write (MLflow's fluent API, one run at a time)."""
    import mlflow

    t = time.perf_counter()
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("baseline")
    for folder in store.iter_run_folders(runs_dir):
        rec = json.loads((folder / store.RECORD).read_text())
        with mlflow.start_run(run_name=rec["id"]):
            mlflow.log_params(rec["params"])
            mlflow.log_metrics(
                {k: v for k, v in rec["scraps"].items() if isinstance(v, (int, float))}
            )
            mlflow.set_tags({"notebook": rec["notebook"]["path"], "status": rec["status"]})
            for name in (store.OUTPUT, store.RECORD, store.ENVIRONMENT):
                mlflow.log_artifact(str(folder / name))
    return time.perf_counter() - t


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 1000
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"  # no usage data sent during the timing
    with tempfile.TemporaryDirectory(prefix="mlops-nb-bench-export-") as tmp:
        work = Path(tmp)
        seeds = seed_runs(work)
        runs_dir = work / "project" / "runs"
        replicate(seeds, runs_dir, n)
        index.rebuild(runs_dir)
        ours_uri = migrated_store(work / "ours.db", ours=True)
        base_uri = migrated_store(work / "baseline.db", ours=False)
        plain_uri = migrated_store(work / "ours-in-mlflow-made.db", ours=False)
        t = time.perf_counter()
        first = mlops_nb.export("mlflow", all_runs=True, runs_dir=runs_dir, tracking_uri=ours_uri)
        first_s = time.perf_counter() - t
        assert first.count("created", kind="run") == n, first.count("created")
        t = time.perf_counter()
        again = mlops_nb.export("mlflow", all_runs=True, runs_dir=runs_dir, tracking_uri=ours_uri)
        again_s = time.perf_counter() - t
        assert again.count("unchanged") == n + 1
        cli = [sys.executable, "-m", "mlops_nb", "export", "mlflow", "--all"]
        cli += ["--runs-dir", str(runs_dir), "--tracking-uri", ours_uri]
        t = time.perf_counter()
        subprocess.run(cli, check=True, stdout=subprocess.DEVNULL)
        cli_s = time.perf_counter() - t
        os.chdir(work)  # the fluent API puts artifacts under ./mlruns: keep them in the scratch
        base_s = baseline(runs_dir, base_uri)
        t = time.perf_counter()  # the same export into a store MLflow made (rollback journal)
        plain = mlops_nb.export("mlflow", all_runs=True, runs_dir=runs_dir, tracking_uri=plain_uri)
        plain_s = time.perf_counter() - t
        assert plain.count("created", kind="run") == n
        os.chdir(HERE)
        shutil.rmtree(work / "project", ignore_errors=True)
    print(
        f"{n} runs -> a fresh MLflow SQLite store (measured on a shared 2-core machine, under load)"
    )
    print(f"  mlops-nb export (first)      {first_s:8.2f} s  {1000 * first_s / n:6.1f} ms/run")
    print(f"  fluent-API script (baseline) {base_s:8.2f} s  {1000 * base_s / n:6.1f} ms/run")
    print(f"  speed-up                     {base_s / first_s:8.2f}x   (target >= 2x)")
    print("  mlops-nb export into a store MLflow created (rollback journal, not WAL):")
    print(
        f"                               {plain_s:8.2f} s  {1000 * plain_s / n:6.1f} ms/run  {base_s / plain_s:.2f}x"
    )
    print(f"  re-export, in process        {again_s:8.3f} s   (target <= 1 s)")
    print(f"  re-export, CLI end to end    {cli_s:8.3f} s")
    met = base_s / first_s >= 2 and again_s <= 1
    print(f"targets: {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
