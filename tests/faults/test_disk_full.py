"""Issue 19, fault 1: a full disk. One clear line, a final status that says so, no empty
folders or temp files, never ``ok`` without the output notebook; resuming after space is freed
finishes every set once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.sweep import record
from tests.faults.conftest import (
    assert_clean_store,
    collected,
    fill,
    mlops,
    notebook,
    one_line_error,
    records,
    tmpfs,
)

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def test_run_printing_1mb_with_40kb_free(tmp_path: Path) -> None:
    nb = notebook(tmp_path / "big.ipynb", "mb = 1", "print('z' * (mb * 1024 * 1024))")
    with tmpfs(tmp_path / "disk", 512) as disk:
        runs = disk / "runs"
        runs.mkdir()
        fill(disk, leave_kb=40)
        done = mlops("run", str(nb), "--runs-dir", str(runs))
        assert done.returncode == 2, done.stderr
        one_line_error(done, "no space left on device", "output.ipynb")
        (rec,) = records(runs)
        assert rec["status"] == "failed"
        assert rec["error"]["ename"] == "StoreError"
        assert "no space left on device" in rec["error"]["evalue"]
        assert not (runs / rec["id"] / "output.ipynb").exists()
        assert_clean_store(runs)
        assert [r["status"] for r in collected(runs)] == ["failed"]


def test_store_full_before_the_start(tmp_path: Path) -> None:
    nb = notebook(tmp_path / "tiny.ipynb", "x = 1", "print(x)")
    with tmpfs(tmp_path / "disk", 256) as disk:
        runs = disk / "runs"
        runs.mkdir()
        fill(disk, leave_kb=0)
        done = mlops("run", str(nb), "--runs-dir", str(runs))
        assert done.returncode == 2, done.stderr
        one_line_error(done, "no space left on device")
        assert list(runs.iterdir()) == [] or all(
            p.name.startswith("index.sqlite") for p in runs.iterdir()
        )
        assert_clean_store(runs)


def test_sweep_on_a_filling_disk_then_resumed(tmp_path: Path) -> None:
    nb = notebook(tmp_path / "chatty.ipynb", "i = 0", "print(str(i) * 20000)")
    grid = tmp_path / "grid.yaml"
    grid.write_text(json.dumps({"i": list(range(8))}))
    with tmpfs(tmp_path / "disk", 1024) as disk:
        runs = disk / "runs"
        runs.mkdir()
        filler = fill(disk, leave_kb=110)
        args = ["sweep", str(nb), "--grid", str(grid), "--runs-dir", str(runs), "--workers", "2"]
        done = mlops(*args)
        assert done.returncode == 2, done.stderr
        one_line_error(done, "no space left on device", "re-invoke the sweep")
        statuses = [r["status"] for r in records(runs)]
        assert "running" not in statuses
        assert_clean_store(runs)
        # written `failed`, or (when even that did not fit) read as `lost`: never `running`
        (sid,) = [p.stem for p in (runs / "sweeps").glob("*.json")]
        seen = record.read(runs, sid)
        assert seen is not None and seen["status"] in ("failed", "lost")
        for r in records(runs):  # never ok without its output notebook
            assert r["status"] != "ok" or (runs / r["id"] / "output.ipynb").is_file()

        filler.unlink()  # space is back: the sweep resumes and finishes every set once
        done = mlops(*args)
        assert done.returncode == 0, done.stderr
        ok = [r for r in collected(runs) if r["status"] == "ok"]
        assert sorted(r["params.i"] for r in ok) == list(range(8))
        assert not [r for r in collected(runs) if r["status"] == "running"]
        assert_clean_store(runs)
