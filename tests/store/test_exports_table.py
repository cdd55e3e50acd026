"""The exports table (what went where, for idempotent exports) and the export lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.store import exports
from tests.store.flock import held


def test_remember_done_and_of_run(tmp_path: Path) -> None:
    assert not exports.exists(tmp_path)
    with exports.ExportsTable(tmp_path) as table:
        table.remember(
            "mlflow", "sqlite:///a.db", "run:r1", run_id="r1", remote_id="m1", fingerprint="f1"
        )
        table.remember(
            "mlflow", "sqlite:///a.db", "sweep:s1", run_id=None, remote_id="m0", fingerprint="f0"
        )
        table.remember("wandb", "proj", "run:r1", run_id="r1", remote_id="w1", fingerprint="f1")
        table.remember(
            "mlflow", "sqlite:///a.db", "run:r1", run_id="r1", remote_id="m1", fingerprint="f2"
        )
    assert exports.exists(tmp_path)
    with exports.ExportsTable(tmp_path) as table:  # kept across openings
        done = table.done("mlflow", "sqlite:///a.db")
        assert done["run:r1"] == exports.Exported("run:r1", "m1", "f2")  # replaced, not added
        assert set(done) == {"run:r1", "sweep:s1"}
        assert table.done("mlflow", "elsewhere") == {}
        assert table.of_run("r1") == [("mlflow", "sqlite:///a.db", "m1"), ("wandb", "proj", "w1")]


def test_a_table_used_outside_its_block_is_a_bug(tmp_path: Path) -> None:
    table = exports.ExportsTable(tmp_path)
    with pytest.raises(AssertionError, match="context manager"):
        table.done("mlflow", "x")


def test_a_corrupt_table_says_how_to_recover(tmp_path: Path) -> None:
    (tmp_path / exports.EXPORTS).write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="Delete it to forget what was exported"):
        exports.ExportsTable(tmp_path).__enter__()


def test_the_export_lock(tmp_path: Path) -> None:
    with exports.locked(tmp_path):
        assert held(tmp_path / exports.LOCK)
    assert not held(tmp_path / exports.LOCK)
    with pytest.raises(StoreError, match="cannot open"):
        exports.locked(tmp_path / "no" / "such").__enter__()
