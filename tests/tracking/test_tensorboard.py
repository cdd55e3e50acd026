"""TensorBoard export, read back with TensorBoard's own EventAccumulator and HParams protos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mlops_nb
from mlops_nb.main import main
from mlops_nb.store import runs as store

pytestmark = pytest.mark.tensorboard


def read(folder: Path) -> Any:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(folder))
    ea.Reload()
    return ea


def hparams(ea: Any) -> dict[str, Any]:
    from tensorboard.plugins.hparams import plugin_data_pb2

    out = {}
    for tag, content in ea.PluginTagToContent("hparams").items():
        data = plugin_data_pb2.HParamsPluginData()
        data.ParseFromString(content)
        out[tag] = data
    return out


def run_dirs(logdir: Path) -> list[Path]:
    return sorted(p.parent for p in logdir.rglob("events.out.tfevents.*"))


def test_scalars_hparams_and_hierarchy(project: Path) -> None:
    logdir = project / "tb"
    assert main(["export", "tensorboard", "--all", "--logdir", "tb"]) == 0
    recs = {r["id"]: r for r in store.iter_records(project / "runs")}
    dirs = run_dirs(logdir)
    assert sorted(d.name for d in dirs) == sorted(recs)
    rel = {d.name: d.relative_to(logdir).parts for d in dirs}
    for rid, rec in recs.items():
        pipe = rec.get("pipeline") or {}
        if rec.get("sweep_id") and pipe:
            assert rel[rid] == ("tiny", pipe["run_id"], rec["sweep_id"], rid)
        elif pipe:
            assert rel[rid] == ("tiny", pipe["run_id"], rid)
        elif rec.get("sweep_id"):
            assert rel[rid] == ("train", rec["sweep_id"], rid)
    single = next(r for r in recs.values() if r["name"] == "single")
    ea = read(next(d for d in dirs if d.name == single["id"]))
    (f1,) = ea.Scalars("f1")
    assert f1.value == pytest.approx(0.7) and f1.step == 0
    assert ea.Scalars("converged")[0].value == 1.0
    hp = hparams(ea)
    start = hp["_hparams_/session_start_info"].session_start_info
    assert start.hparams["lr"].number_value == pytest.approx(0.2)
    assert start.hparams["layers"].string_value == "[8, 4]"
    assert "output_dir" not in start.hparams
    end = hp["_hparams_/session_end_info"].session_end_info
    from tensorboard.plugins.hparams import api_pb2

    assert end.status == api_pb2.STATUS_SUCCESS
    broken = next(r for r in recs.values() if r["name"] == "broken")
    end = hparams(read(next(d for d in dirs if d.name == broken["id"])))[
        "_hparams_/session_end_info"
    ]
    assert end.session_end_info.status == api_pb2.STATUS_FAILURE
    assert not (logdir / ".mlops-nb-partial").exists()


def test_reexport_writes_nothing_and_killed_scratch_is_cleaned(project: Path) -> None:
    first = mlops_nb.export("tensorboard", all_runs=True)
    assert first.count("created") == 11
    logdir = project / "tensorboard"  # the default: beside the runs folder
    files = sorted(logdir.rglob("*"))
    # an export killed mid-way leaves only a scratch folder, which TensorBoard never shows as a
    # run once the next export removed it
    scratch = logdir / ".mlops-nb-partial" / "dead"
    scratch.mkdir(parents=True)
    (scratch / "events.out.tfevents.0.x").write_bytes(b"")
    (project / "runs" / "exports.sqlite").unlink()
    again = mlops_nb.export("tensorboard", all_runs=True)
    assert again.count("created") == 0 and again.count("completed") == 11
    assert sorted(logdir.rglob("*")) == files
    assert mlops_nb.export("tensorboard", all_runs=True).count("unchanged") == 11
