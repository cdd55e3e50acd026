"""MLflow export against real SQLite stores (and one real `mlflow server`), read back with
``MlflowClient.search_runs``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import mlops_nb
from mlops_nb.main import main
from mlops_nb.store import runs as store

pytestmark = pytest.mark.mlflow


def client(db: Path) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{db}")


def all_runs(db: Path) -> list[Any]:
    c = client(db)
    ids = [e.experiment_id for e in c.search_experiments()]
    return list(c.search_runs(ids, max_results=1000))


def by_entity(runs: list[Any]) -> dict[str, Any]:
    return {r.data.tags["mlops_nb.entity"]: r for r in runs}


def records(project: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in store.iter_records(project / "runs")}


def test_round_trip(project: Path, mlflow_db: Path) -> None:
    result = mlops_nb.export("mlflow", all_runs=True)
    assert result.count("created") == 11 and result.ok
    runs = by_entity(all_runs(mlflow_db))
    recs = records(project)
    assert len(runs) == 11 and len(recs) == 8
    single = next(r for r in recs.values() if r["name"] == "single")
    got = runs[f"run:{single['id']}"]
    # params: non-strings as JSON, output_dir left out
    assert got.data.params == {
        "upstream": "null",
        "lr": "0.2",
        "label": "a",
        "layers": "[8, 4]",
        "data": "data.csv",
    }
    # numeric and boolean scraps as metrics, string scraps as tags
    assert got.data.metrics == {"f1": pytest.approx(0.7), "converged": 1.0, "n": 3.0}
    assert got.data.tags["note"] == "lr=0.2"
    tags = got.data.tags
    assert tags["mlflow.source.name"] == single["notebook"]["path"]
    assert tags["mlflow.source.type"] == "NOTEBOOK"
    assert tags["mlops_nb.code_sha256"] == single["notebook"]["code_sha256"]
    assert tags["mlops_nb.key"] == single["key"]
    assert tags["mlops_nb.run_id"] == single["id"]
    assert got.info.run_name == single["id"]
    # original times and statuses
    assert got.info.start_time == mlflow_ms(single["started_at"])
    assert got.info.end_time == mlflow_ms(single["ended_at"])
    statuses = {
        r["name"] or Path(r["notebook"]["path"]).stem: runs[f"run:{i}"].info.status
        for i, r in recs.items()
    }
    assert statuses["single"] == "FINISHED"
    assert statuses["broken"] == "FAILED"
    assert statuses["slow"] == "KILLED"
    assert (
        "ValueError"
        in runs[f"run:{next(i for i, r in recs.items() if r['name'] == 'broken')}"].data.tags[
            "mlops_nb.error"
        ]
    )
    # input files as dataset inputs with their full sha256
    (ds,) = got.inputs.dataset_inputs
    sha = single["inputs"]["data.csv"]["sha256"]
    assert ds.dataset.name == "data.csv" and ds.dataset.digest == sha[:32]
    assert {t.key: t.value for t in ds.tags}["mlops_nb.sha256"] == sha
    # artifacts downloadable
    c = client(mlflow_db)
    names = sorted(a.path for a in c.list_artifacts(got.info.run_id))
    assert names == ["environment.json", "model.txt", "output.ipynb", "run.json"]
    local = c.download_artifacts(got.info.run_id, "model.txt", str(project / "dl"))
    assert Path(local).read_text() == "0.2"


def mlflow_ms(iso: str) -> int:
    import datetime as dt

    return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def test_hierarchy_pipeline_sweep_run(project: Path, mlflow_db: Path) -> None:
    mlops_nb.export("mlflow", pipeline="tiny")
    runs = all_runs(mlflow_db)
    assert len(runs) == 5
    by_id = {r.info.run_id: r for r in runs}
    kinds = {r.info.run_id: r.data.tags["mlops_nb.kind"] for r in runs}
    (pipe,) = [r for r in runs if kinds[r.info.run_id] == "pipeline"]
    (sweep,) = [r for r in runs if kinds[r.info.run_id] == "sweep"]
    assert "mlflow.parentRunId" not in pipe.data.tags
    assert sweep.data.tags["mlflow.parentRunId"] == pipe.info.run_id
    steps: dict[str, list[str]] = {}
    for r in runs:
        if kinds[r.info.run_id] == "run":
            steps.setdefault(r.data.tags["mlops_nb.step"], []).append(
                by_id[r.data.tags["mlflow.parentRunId"]].data.tags["mlops_nb.kind"]
            )
    assert steps == {"prep": ["pipeline"], "train": ["sweep", "sweep"]}
    train = next(r for r in runs if r.data.tags.get("mlops_nb.step") == "train")
    prep = next(r for r in runs if r.data.tags.get("mlops_nb.step") == "prep")
    assert train.data.tags["mlops_nb.upstream.prep"] == prep.data.tags["mlops_nb.run_id"]
    # a parent spans its runs and is FINISHED when all of them are
    children = [r for r in runs if kinds[r.info.run_id] == "run"]
    assert pipe.info.status == "FINISHED"
    assert pipe.info.start_time == min(r.info.start_time for r in children)
    assert pipe.info.end_time == max(r.info.end_time for r in children)
    assert {e.name for e in client(mlflow_db).search_experiments()} >= {"tiny"}


def test_reexport_creates_nothing_even_without_the_exports_table(
    project: Path, mlflow_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "mlflow", "--all"]) == 0
    assert main(["export", "mlflow", "--all"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "mlflow: 11 unchanged"
    # forgetting what was exported (a deleted table) finds the runs remotely: nothing new
    (project / "runs" / "exports.sqlite").unlink()
    res = mlops_nb.export("mlflow", all_runs=True)
    assert res.count("completed") == 11 and res.count("created") == 0
    assert len(all_runs(mlflow_db)) == 11


KILLER = """
import os, sys
from mlflow.tracking import MlflowClient
real = MlflowClient.set_terminated
calls = []
def set_terminated(self, *a, **k):
    calls.append(1)
    if len(calls) == int(os.environ["KILL_AT"]):
        os.kill(os.getpid(), 9)   # killed mid-way: run created and logged, not finished or noted
    return real(self, *a, **k)
MlflowClient.set_terminated = set_terminated
from mlops_nb.main import main
sys.exit(main(["export", "mlflow", "--all"]))
"""


def test_export_killed_mid_way_then_rerun_gives_one_mlflow_run_per_run(
    project: Path, mlflow_db: Path
) -> None:
    env = {**os.environ, "KILL_AT": "6"}
    done = subprocess.run([sys.executable, "-c", KILLER], env=env, capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    half = all_runs(mlflow_db)
    assert 0 < len(half) < 11 and any(r.info.status == "RUNNING" for r in half)
    res = mlops_nb.export("mlflow", all_runs=True)
    assert res.count("completed") == 1
    runs = all_runs(mlflow_db)
    assert len(runs) == 11
    assert len({r.data.tags["mlops_nb.entity"] for r in runs}) == 11
    assert all(r.info.status != "RUNNING" for r in runs)
    for r in runs:
        if r.data.tags["mlops_nb.kind"] == "run":
            assert r.data.params and r.info.end_time


def test_concurrent_exports_do_not_duplicate(project: Path, mlflow_db: Path) -> None:
    cmd = [sys.executable, "-m", "mlops_nb", "export", "mlflow", "--all"]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    # both are waited for before any assertion: a process left running would be reported (a
    # ResourceWarning) in whichever test comes next
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    assert len(all_runs(mlflow_db)) == 11


def test_lost_run_is_exported_as_failed(project: Path, mlflow_db: Path) -> None:
    """A run whose driver died (``lost``) goes to MLflow as FAILED with the cause as its note;
    its pipeline invocation is FAILED too."""
    from tests.tracking.store import make_lost

    lost = make_lost(project / "runs", "json_extract(pipeline, '$.step') = 'prep'")
    result = mlops_nb.export("mlflow", pipeline="tiny")
    assert result.not_final == [] and result.count("created", kind="run") == 3
    found = by_entity(all_runs(mlflow_db))
    run = found[f"run:{lost}"]
    assert run.info.status == "FAILED" and run.info.end_time >= run.info.start_time
    assert "DriverLost" in run.data.tags["mlflow.note.content"]
    assert found[f"pipeline:{run.data.tags['mlops_nb.pipeline_run_id']}"].info.status == "FAILED"


def test_losing_the_race_to_create_an_experiment_uses_the_winners(
    project: Path, mlflow_db: Path
) -> None:
    """The second of two exports that both saw no experiment 'slow' gets MLflow's
    already-exists error on creating it, and takes the one the first made."""
    from mlops_nb.tracking.mlflow_adapter import MlflowExporter

    first, second = (
        MlflowExporter(runs_dir=project / "runs", tracking_uri=f"sqlite:///{mlflow_db}")
        for _ in range(2)
    )
    first.connect([])
    second.connect([])
    try:
        winner, created = first._experiment("slow")
        assert created
        made, exp = second._create_experiment("slow", second._artifact_root("slow"))
        assert made is None and exp.experiment_id == winner
        assert second._experiment("slow") == (winner, False)
    finally:
        first.close()
        second.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def snapshot(runs_dir: Path) -> dict[str, int]:
    return {str(p.relative_to(runs_dir)): p.stat().st_mtime_ns for p in runs_dir.rglob("*")}


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (lambda p: f"http://127.0.0.1:{free_port()}", "cannot reach the MLflow tracking store"),
        (lambda p: "nosuchscheme://x/y", "cannot reach the MLflow tracking store"),
        (lambda p: f"sqlite:///{p}/data.csv", "cannot reach the MLflow tracking store"),
    ],
    ids=["unreachable-server", "bad-scheme", "not-a-database"],
)
def test_unusable_destination_is_exit_2_and_changes_nothing(
    project: Path, uri: Any, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(project / "runs")
    assert main(["export", "mlflow", "--all", "--tracking-uri", uri(project)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert snapshot(project / "runs") == before


def test_experiment_with_another_artifact_location_is_exit_2(
    project: Path, mlflow_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client(mlflow_db).create_experiment("train", artifact_location=(project / "elsewhere").as_uri())
    before = snapshot(project / "runs")
    runs = mlops_nb.collect(project / "runs", notebook="train.ipynb")
    plain = str(runs.loc[runs["params.lr"] == 0.4, "sweep"].iloc[0])  # not the pipeline's sweep
    assert main(["export", "mlflow", "--notebook", "train.ipynb", "--sweep", plain]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "keeps its artifacts at" in err[0] and "--experiment" in err[0]
    assert snapshot(project / "runs") == before
    assert main(["export", "mlflow", "--notebook", "train.ipynb", "--experiment", "mine"]) == 0


def test_artifacts_notebook_only_and_one_experiment(project: Path, mlflow_db: Path) -> None:
    mlops_nb.export("mlflow", ["single"], experiment="mine", artifacts="notebook")
    (run,) = all_runs(mlflow_db)
    assert [a.path for a in client(mlflow_db).list_artifacts(run.info.run_id)] == ["output.ipynb"]
    assert client(mlflow_db).get_experiment(run.info.experiment_id).name == "mine"


def test_track_exports_each_run_and_a_failure_only_warns(
    project: Path,
    mlflow_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "train.ipynb", "-p", "lr", "0.25", "--track", "mlflow"]) == 0
    (run,) = all_runs(mlflow_db)
    assert run.data.params["lr"] == "0.25" and run.info.status == "FINISHED"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    assert main(["run", "train.ipynb", "-p", "lr", "0.35", "--track", "mlflow"]) == 0
    err = capsys.readouterr().err
    assert "was not tracked in mlflow" in err and "mlops-nb export mlflow" in err
    assert len(all_runs(mlflow_db)) == 1


@pytest.mark.slow
def test_export_to_a_real_mlflow_server(project: Path, mlflow_db: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{mlflow_db}",
            "--artifacts-destination",
            str(project / "server-artifacts"),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        wait_ready(uri, server)
        assert main(["export", "mlflow", "--pipeline", "tiny", "--tracking-uri", uri]) == 0
        from mlflow.tracking import MlflowClient

        c = MlflowClient(tracking_uri=uri)
        exp = c.get_experiment_by_name("tiny")
        runs = c.search_runs([exp.experiment_id], filter_string="tags.`mlops_nb.kind` = 'run'")
        assert len(runs) == 3
        names = [a.path for a in c.list_artifacts(runs[0].info.run_id)]
        assert "output.ipynb" in names
        assert main(["export", "mlflow", "--pipeline", "tiny", "--tracking-uri", uri]) == 0
        assert len(c.search_runs([exp.experiment_id])) == 5
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def wait_ready(uri: str, server: subprocess.Popen[bytes], limit_s: float = 120) -> None:
    """Poll the server's /health (bounded): it takes ~30 s to start on this machine."""
    import urllib.request

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert server.poll() is None, "mlflow server exited"
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"mlflow server not ready after {limit_s} s")


@pytest.mark.slow
def test_example_pipeline_tracked_in_full(
    tmp_path: Path, mlflow_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The repository's example pipeline, run with --track mlflow: pipeline → sweep → runs."""
    import shutil

    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "notebooks", tmp_path / "notebooks")
    shutil.copyfile(mlflow_template, tmp_path / "mlflow.db")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    runs = tmp_path / "runs"
    argv = ["pipeline", "run", "notebooks/pipeline.yaml", "--runs-dir", str(runs)]
    assert main([*argv, "--track", "mlflow"]) == 0
    assert main(["export", "mlflow", "--pipeline", "example", "--runs-dir", str(runs)]) == 0
    found = by_entity(all_runs(tmp_path / "mlflow.db"))
    kinds = [k.partition(":")[0] for k in found]
    assert kinds.count("pipeline") == 1 and kinds.count("sweep") == 1
    steps: dict[str, list[str]] = {}
    ids = {r.info.run_id: r for r in found.values()}
    for r in found.values():
        if r.data.tags["mlops_nb.kind"] == "run":
            parent = ids[r.data.tags["mlflow.parentRunId"]]
            steps.setdefault(r.data.tags["mlops_nb.step"], []).append(
                parent.data.tags["mlops_nb.kind"]
            )
    # the gate steps (register, promote) decide and move registry aliases: they are not notebook
    # runs, so they are not MLflow runs; the report step writes a file, no run either
    assert steps == {
        "eda": ["pipeline"],
        "train": ["sweep"] * 4,
        "evaluate": ["pipeline"],
        "shadow": ["pipeline"],
        "monitor": ["pipeline"],
    }
    assert all(r.info.status == "FINISHED" for r in found.values())
