"""The typed sweep record: golden records written by the 0.1.0 release still read, the JSON shape
is kept, extensions never overwrite core fields, bad records are one clear error."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.store import liveness
from mlops_nb.sweep import record
from mlops_nb.sweep.api import Sweep
from mlops_nb.sweep.record import CORE_KEYS, Options, SweepEntry, SweepRecord

DATA = Path(__file__).parent / "data"
# Written by release 0.1.0 (real sweeps; machine paths and owner replaced): a resumed sweep with
# ok and failed sets and retried attempts, and a --fail-fast one with sets that never ran.
GOLDEN = ["sweep_v0_resumed.json", "sweep_v0_fail_fast.json"]


def golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


@pytest.mark.parametrize("name", GOLDEN)
def test_v0_record_reads_and_keeps_its_shape(name: str) -> None:
    old = golden(name)
    rec = SweepRecord.from_json(old)
    assert rec.schema_version == record.SCHEMA_VERSION == 1
    assert rec.id == old["id"] and rec.status == old["status"]
    assert rec.counts == old["counts"]
    assert [e.run_id for e in rec.runs] == [e["run_id"] for e in old["runs"]]
    assert rec.owner == {k: old[k] for k in ("host", "pid", "boot_id", "pid_started")}
    again = rec.to_json()
    # The same keys in the same order; new: schema_version, and duration_s on sets not run.
    assert list(again) == [*old, "schema_version"]
    for new_entry, old_entry in zip(again["runs"], old["runs"], strict=True):
        assert new_entry == {"duration_s": None, **old_entry}
        assert list(new_entry)[: len(old_entry)] == list(old_entry)
    assert {k: v for k, v in again.items() if k not in ("runs", "schema_version")} == {
        k: v for k, v in old.items() if k != "runs"
    }
    assert SweepRecord.from_json(again) == rec  # a round trip changes nothing


def test_v0_resumed_record_details() -> None:
    rec = SweepRecord.from_json(golden("sweep_v0_resumed.json"))
    assert rec.invocations == 2 and rec.executor == "serial" and rec.workers == 1
    assert rec.options == Options(timeout_s=60, retries=1, preload=())
    resumed, failed = rec.runs[0], rec.runs[2]
    assert resumed.resumed and resumed.status == "ok" and resumed.duration_s == 0.318
    assert failed.error == "ValueError: boom fail in cell 2" and len(failed.attempts) == 2


def test_v0_fail_fast_record_details() -> None:
    rec = SweepRecord.from_json(golden("sweep_v0_fail_fast.json"))
    assert rec.options == Options(fail_fast=True, preload=("json",), prewarm=False, fork=False)
    assert rec.source == {"list": "/home/user/project/sets.yaml"}
    assert [e.status for e in rec.runs] == ["failed", "pending", "pending"]
    assert rec.runs[1] == SweepEntry(index=1, params={"mode": "ok"}, key=rec.runs[1].key)


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_record_loads_as_a_sweep(tmp_path: Path, name: str) -> None:
    old = golden(name)
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "sweeps" / f"{old['id']}.json").write_text(json.dumps(old))
    s = Sweep.load(old["id"], runs_dir=tmp_path)
    assert s.status == old["status"] and s.counts == old["counts"]
    assert [e["key"] for e in s.entries] == [e["key"] for e in old["runs"]]
    assert [e["index"] for e in s.failed] == [
        e["index"] for e in old["runs"] if e["status"] != "ok"
    ]
    rows = s.summary()  # the runs are not in this store: rows from the record alone
    assert [r["status"] for r in rows] == [e["status"] for e in old["runs"]]
    assert rows[0]["param.mode"] == old["runs"][0]["params"]["mode"]
    assert s.runs == []
    assert repr(s).startswith(f"Sweep(id={old['id']!r}, status={old['status']!r}")


def test_record_written_is_the_json_read(tmp_path: Path) -> None:
    rec = SweepRecord.from_json(golden("sweep_v0_resumed.json"))
    path = record.write(tmp_path, rec)
    assert path == record.record_path(tmp_path, rec.id)
    assert json.loads(path.read_text()) == rec.to_json()
    assert record.load(tmp_path, rec.id) == rec
    assert record.read(tmp_path, rec.id) == rec.to_json()
    assert record.load(tmp_path, "nope") is None and record.read(tmp_path, "nope") is None


@pytest.mark.parametrize("key", CORE_KEYS)
def test_extension_cannot_overwrite_core_field(key: str) -> None:
    rec = SweepRecord.from_json(golden("sweep_v0_resumed.json"))
    with pytest.raises(ValueError, match="cannot overwrite core fields"):
        rec.with_extensions(**{key: "forged"})


def test_extensions_are_kept_beside_the_core() -> None:
    rec = SweepRecord.from_json(golden("sweep_v0_resumed.json")).with_extensions(team="ml")
    out = rec.to_json()
    assert out["team"] == "ml" and list(out)[-1] == "team"
    assert SweepRecord.from_json(out).extensions == {"team": "ml"}


def test_newer_record_keeps_unknown_keys() -> None:
    data = {**golden("sweep_v0_resumed.json"), "schema_version": 7, "budget": {"gpu_h": 3}}
    rec = SweepRecord.from_json(data)
    assert rec.schema_version == 7 and rec.extensions == {"budget": {"gpu_h": 3}}


def test_owner_fields_only() -> None:
    with pytest.raises(ValueError, match="not owner fields"):
        SweepRecord(id="s", notebook={}, status="ok", owner={"user": "me"})


def test_record_is_frozen() -> None:
    rec = SweepRecord.from_json(golden("sweep_v0_resumed.json"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.status = "ok"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.runs[0].status = "failed"  # type: ignore[misc]


def test_v0_record_missing_collections_gets_empty_ones() -> None:
    data = {"id": "s", "status": "failed", "options": None, "runs": None, "invocations": "x"}
    rec = SweepRecord.from_json(data)
    assert rec.runs == () and rec.options == Options() and rec.invocations == 0
    assert rec.notebook == {} and rec.source == {}


def test_entry_attempts_keep_only_run_ids() -> None:
    entry = SweepEntry.from_json({"index": 0, "key": "k", "attempts": ["a", 3, None, "b"]})
    assert entry.attempts == ("a", "b") and entry.status == "pending"
    assert SweepEntry.from_json({"index": 0, "key": "k", "attempts": "a"}).attempts == ()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"status": "ok"}, id="no-id"),
        pytest.param({"id": "s"}, id="no-status"),
        pytest.param({"id": "s", "status": "ok", "runs": [3]}, id="entry-not-an-object"),
        pytest.param({"id": "s", "status": "ok", "runs": [{"index": 0}]}, id="entry-no-key"),
        pytest.param({"id": "s", "status": "ok", "runs": [{"key": "k"}]}, id="entry-no-index"),
    ],
)
def test_not_a_sweep_record_is_one_store_error(tmp_path: Path, data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not a sweep"):
        SweepRecord.from_json(data)
    path = record.record_path(tmp_path, "s")
    path.parent.mkdir()
    path.write_text(json.dumps(data))
    with pytest.raises(StoreError, match=r"not a sweep record .*Delete it to start over"):
        record.load(tmp_path, "s")


def test_unreadable_record_is_one_store_error(tmp_path: Path) -> None:
    path = record.record_path(tmp_path, "s")
    path.parent.mkdir()
    path.write_text("{not json")
    with pytest.raises(StoreError, match="unreadable sweep record"):
        record.load(tmp_path, "s")
    path.write_text("[1, 2]")  # valid JSON, not an object: no record
    assert record.load(tmp_path, "s") is None


def test_running_record_whose_driver_is_gone_reads_as_lost(tmp_path: Path) -> None:
    data = golden("sweep_v0_fail_fast.json")
    gone = os.getpid()  # this host; a pid that started at another time is not this process
    data.update(status="running", host=socket.gethostname(), pid=gone, pid_started=-1)
    data.update(boot_id=liveness.boot_id())
    path = record.record_path(tmp_path, data["id"])
    path.parent.mkdir()
    path.write_text(json.dumps(data))
    rec = record.load(tmp_path, data["id"])
    assert rec is not None and rec.status == liveness.LOST
    assert rec.error is not None and rec.error["ename"] == liveness.LOST_ENAME
    assert rec.to_json()["error"] == rec.error  # written only on a lost sweep
    assert "error" not in SweepRecord.from_json(golden("sweep_v0_fail_fast.json")).to_json()


def test_counts() -> None:
    entries = [SweepEntry(0, {}, "a", "ok"), SweepEntry(1, {}, "b"), SweepEntry(2, {}, "c", "ok")]
    assert record.counts(entries) == {"ok": 2, "pending": 1}
