"""Run folders in the store's real format, written without a kernel (for fast tests)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.notebook.io import code_sha256
from mlops_nb.store import runs as store
from tests import nbbuild as b

_T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_counter = [0]


def scrap_output(name: str, value: Any) -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "metadata": {"scrapbook": {"name": name, "data": True, "display": False}},
        "data": {
            "application/scrapbook.scrap.json+json": {
                "name": name,
                "data": value,
                "encoder": "json",
                "version": 1,
            }
        },
    }


def make_run(
    runs_dir: Path,
    *,
    params: dict[str, Any] | None = None,
    scraps: dict[str, Any] | None = None,
    status: str = "ok",
    notebook: str = "train.ipynb",
    code: str = "y = x * 2",
    sweep_id: str | None = None,
    name: str | None = None,
    key: str | None = None,
    error: dict[str, Any] | None = None,
    packages: dict[str, str] | None = None,
    inputs: dict[str, Any] | None = None,
    git: dict[str, Any] | None = None,
    pipeline: dict[str, Any] | None = None,
) -> Path:
    _counter[0] += 1
    start = _T0 + dt.timedelta(minutes=_counter[0])
    run_id = store.new_run_id(name, now=start)
    folder = store.create_run_folder(runs_dir, run_id)
    params = dict(params or {})
    scraps = dict(scraps or {})
    nb = b.notebook(
        b.params("\n".join(f"{k} = {v!r}" for k, v in params.items()) or "x = 1"),
        b.code(code, outputs=[scrap_output(k, v) for k, v in scraps.items()]),
    )
    (folder / store.OUTPUT).write_text(json.dumps(nb), encoding="utf-8")
    if packages is not None:
        (folder / store.ENVIRONMENT).write_text(json.dumps(packages), encoding="utf-8")
    record = {
        "id": run_id,
        "name": name,
        "notebook": {
            "path": notebook,
            "abspath": f"/project/{notebook}",
            "code_sha256": code_sha256(nb),
        },
        "params": params,
        "status": status,
        "started_at": start.isoformat().replace("+00:00", "Z"),
        "ended_at": start.isoformat().replace("+00:00", "Z"),
        "duration_s": 1.5 + _counter[0] % 3,
        "error": error
        if error is not None
        else (
            {"ename": "ValueError", "evalue": "boom", "cell_index": 1, "traceback": []}
            if status == "failed"
            else None
        ),
        "scraps": scraps,
        "artifacts": {},
        "inputs": inputs or {},
        "git": git,
        "environment": {"python": "3.11", "packages": packages or {}},
        "key": key or f"key-{_counter[0]}",
        "sweep_id": sweep_id,
        "pipeline": pipeline,
    }
    store.write_record(folder, record, final=True)
    return folder


def refused_where(
    command: str,
    runs_dir: Path,
    expr: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """``mlops-nb COMMAND --runs-dir RUNS --where EXPR`` in an empty working folder: asserts exit 2
    and that nothing was written there (no report half-written); returns its stderr."""
    from mlops_nb.main import main

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main([command, "--runs-dir", str(runs_dir), "--where", expr]) == 2
    assert list(work.iterdir()) == []
    return capsys.readouterr().err
