"""The typed run record (issue 16): round trip, migration on read, extensions never overwrite
core fields. ``data/run_v0_*.json`` are records written by the release before ``schema_version``
(real runs; machine-specific paths replaced)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

import mlops_nb
from mlops_nb.errors import StoreError, UsageError
from mlops_nb.execution import runner
from mlops_nb.store import runs as store
from mlops_nb.store.record import CORE_KEYS, OWNER_KEYS, SCHEMA_VERSION, RunRecord, migrate
from tests import nbbuild as b

DATA = Path(__file__).parent / "data"
V0 = sorted(DATA.glob("run_v0_*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("path", V0, ids=[p.stem for p in V0])
def test_v0_record_migrates_and_keeps_its_shape(path: Path) -> None:
    old = load(path)
    assert "schema_version" not in old
    rec = RunRecord.from_json(old)
    assert rec.schema_version == SCHEMA_VERSION
    assert (rec.id, rec.status, rec.params) == (old["id"], old["status"], old["params"])
    assert dict(rec.owner) == {k: old[k] for k in OWNER_KEYS}
    # additive only: every key and value of the old record is written back unchanged
    assert rec.to_json() == {**old, "schema_version": SCHEMA_VERSION}
    assert [k for k in rec.to_json() if k != "schema_version"] == list(old)  # same order


def test_v0_extension_stays_an_extension() -> None:
    rec = RunRecord.from_json(load(DATA / "run_v0_failed.json"))
    assert rec.status == "failed" and rec.error is not None
    assert rec.error["ename"] == "ZeroDivisionError"
    assert set(rec.extensions) == {"errors"}


def test_v0_record_missing_collections_gets_empty_ones() -> None:
    old = load(DATA / "run_v0_golden.json")
    del old["scraps"], old["artifacts"]
    old["params"] = None
    rec = RunRecord.from_json(old)
    assert (rec.params, rec.scraps, rec.artifacts) == ({}, {}, {})
    assert migrate(old) is not old and "schema_version" not in old


def test_newer_record_keeps_unknown_keys() -> None:
    new = {**load(DATA / "run_v0_golden.json"), "schema_version": 99, "future": [1]}
    rec = RunRecord.from_json(new)
    assert rec.schema_version == 99 and rec.extensions == {"future": [1]}
    assert rec.to_json() == new


@pytest.mark.parametrize("missing", ["id", "notebook", "status"])
def test_not_a_record(missing: str) -> None:
    data = load(DATA / "run_v0_golden.json")
    del data[missing]
    with pytest.raises(ValueError, match=missing):
        RunRecord.from_json(data)


@pytest.mark.parametrize(
    "key", [k for k in CORE_KEYS if k != "schema_version"] + ["schema_version"]
)
def test_extension_cannot_overwrite_core_field(key: str) -> None:
    rec = RunRecord.from_json(load(DATA / "run_v0_golden.json"))
    with pytest.raises(ValueError, match="core fields"):
        rec.with_extensions(**{key: "forged"})
    with pytest.raises(ValueError, match="core fields"):
        dataclasses.replace(rec, extensions={key: "forged"})


def test_record_is_frozen() -> None:
    rec = RunRecord.from_json(load(DATA / "run_v0_golden.json"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.status = "ok"  # type: ignore[misc]


@pytest.mark.parametrize("key", ["status", "id", "scraps", "pid", "schema_version"])
def test_prepare_refuses_extra_that_names_a_core_field(tmp_path: Path, key: str) -> None:
    nb = b.write(tmp_path / "t.ipynb", b.params("a = 1"), b.code("a"))
    with pytest.raises(UsageError, match=key):
        runner.prepare(nb, runs_dir=tmp_path / "runs", extra={key: "forged", "fine": 1})
    assert not (tmp_path / "runs").exists()


@pytest.mark.kernel
def test_sweep_extra_cannot_forge_status(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(tmp_path / "t.ipynb", b.params("a = 1"), b.code("1/0"))
    with pytest.raises(UsageError, match="status"):
        mlops_nb.sweep(nb, grid={"a": [1]}, runs_dir=runs_dir, extra={"status": "ok"})
    assert list(store.iter_run_folders(runs_dir)) == []


@pytest.mark.kernel
def test_runner_writes_a_typed_record(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(tmp_path / "t.ipynb", b.params("a = 1"), b.code("a"))
    spec = runner.prepare(nb, {"a": 2}, runs_dir=runs_dir, extra={"rerun_of": "x"})
    folder = runner.execute_run(spec, handle_signals=False)
    raw = store.read_raw_record(folder)
    assert raw["schema_version"] == SCHEMA_VERSION and raw["rerun_of"] == "x"
    assert RunRecord.from_json(raw).to_json() == raw
    run = mlops_nb.Run(folder)
    assert (run.status, run.params, run.run_record.extensions) == (
        "ok",
        {"a": 2},
        {"rerun_of": "x"},
    )


def test_run_on_a_folder_without_a_record_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / store.RECORD).write_text('{"id": "x"}', encoding="utf-8")
    with pytest.raises(StoreError, match="not a run record"):
        mlops_nb.Run(tmp_path / "r")
