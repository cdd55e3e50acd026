"""W&B export in offline mode, read back from the offline run files with W&B's own protos."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import mlops_nb
from mlops_nb.main import main
from mlops_nb.store import runs as store
from mlops_nb.tracking.wandb_adapter import wandb_id
from tests.tracking.wandb_log import records

pytestmark = pytest.mark.wandb


def offline_runs(project: Path) -> dict[str, Path]:
    """``{W&B run id: run file}`` of the offline run folders."""
    out = {}
    for folder in sorted((project / "wandb").glob("offline-run-*")):
        (f,) = folder.glob("run-*.wandb")
        out[f.stem.removeprefix("run-")] = f
    return out


def read(path: Path) -> dict[str, Any]:
    """The run's settings, config, summary, artifacts and exit code from its records."""
    out: dict[str, Any] = {"summary": {}, "artifacts": [], "exit_code": None}
    for r in records(path):
        kind = r.WhichOneof("record_type")
        if kind == "run":
            out["run"] = r.run
            out["config"] = {u.key: json.loads(u.value_json) for u in r.run.config.update}
        elif kind == "summary":
            for u in r.summary.update:
                key = u.key or "/".join(u.nested_key)
                out["summary"][key] = json.loads(u.value_json)
        elif kind == "artifact":
            out["artifacts"].append(r.artifact)
        elif kind == "exit":
            out["exit_code"] = r.exit.exit_code
    return out


def test_offline_runs_read_back(project: Path, wandb_home: Path) -> None:
    assert main(["export", "wandb", "--all", "--project", "demo"]) == 0
    recs = {r["id"]: r for r in store.iter_records(project / "runs")}
    files = offline_runs(project)
    assert sorted(files) == sorted(wandb_id(i) for i in recs)
    single = next(r for r in recs.values() if r["name"] == "single")
    got = read(files[wandb_id(single["id"])])
    run = got["run"]
    assert run.project == "demo" and run.display_name == single["id"]
    assert run.job_type == "train" and run.run_group == ""
    assert got["config"]["lr"] == 0.2 and got["config"]["layers"] == [8, 4]
    assert "output_dir" not in got["config"]
    assert got["config"]["mlops_nb"]["code_sha256"] == single["notebook"]["code_sha256"]
    assert got["summary"]["f1"] == pytest.approx(0.7) and got["summary"]["note"] == "lr=0.2"
    assert got["summary"]["mlops_nb/started_at"] == single["started_at"]
    assert got["exit_code"] == 0
    (art,) = got["artifacts"]
    assert art.type == "mlops-nb-run"
    assert sorted(c.path for c in art.manifest.contents) == [
        "environment.json",
        "model.txt",
        "output.ipynb",
        "run.json",
    ]
    train = next(r for r in recs.values() if (r.get("pipeline") or {}).get("step") == "train")
    got = read(files[wandb_id(train["id"])])
    assert got["run"].run_group == train["sweep_id"] and got["run"].job_type == "train"
    broken = next(r for r in recs.values() if r["name"] == "broken")
    got = read(files[wandb_id(broken["id"])])
    assert got["exit_code"] == 1 and "ValueError" in got["run"].notes


def test_reexport_creates_nothing_and_a_left_over_folder_is_replaced(
    project: Path, wandb_home: Path
) -> None:
    mlops_nb.export("wandb", ["single"])
    assert mlops_nb.export("wandb", ["single"]).count("unchanged") == 1
    assert len(list((project / "wandb").glob("offline-run-*"))) == 1
    # as if the export had been killed before it said so: the folder is written again, once
    (project / "runs" / "exports.sqlite").unlink()
    res = mlops_nb.export("wandb", ["single"])
    assert res.count("completed") == 1
    (again,) = (project / "wandb").glob("offline-run-*")
    assert read(next(again.glob("run-*.wandb")))["exit_code"] == 0
