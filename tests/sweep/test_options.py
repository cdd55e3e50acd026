"""How a sweep is driven (``options.SweepOptions``): bad options are refused before anything is
recorded, whether or not any set needs running; ``sweep()``'s keywords all reach a value."""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.errors import UsageError
from mlops_nb.main import main
from mlops_nb.sweep import api, executors
from mlops_nb.sweep.options import SweepOptions
from mlops_nb.sweep.plan import PlanOptions
from tests import nbbuild as b


def notebook(folder: Path) -> Path:
    return b.write(folder / "tiny.ipynb", b.params("x = 1"), b.code("y = x * 2"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"retries": -1}, "--retries must be 0 or more, got -1.", id="retries"),
        pytest.param({"workers": 0}, "--workers must be 1 or more, got 0.", id="workers"),
        pytest.param(
            {"executor": "ray"},
            "unknown executor 'ray'. Valid executors: dask, local, serial.",
            id="executor",
        ),
        pytest.param(
            {"executor": "local", "scheduler": "tcp://h:8786"},
            "--scheduler only applies to --executor dask.",
            id="scheduler",
        ),
    ],
)
def test_bad_options_are_usage_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as e:
        SweepOptions(**options)
    assert e.value.message == message


def test_known_executors_pass() -> None:
    for name in executors.available():
        assert SweepOptions(executor=name).executor == name


def test_sweep_keywords_are_the_options_and_the_plan_keywords() -> None:
    """``sweep()`` hands its parameters to two values by name: none may be left out."""
    sig = inspect.signature(api.sweep).parameters
    opts = {f.name: f for f in dataclasses.fields(SweepOptions)}
    plan = {f.name: f for f in dataclasses.fields(PlanOptions)}
    assert set(sig) == {"notebook", "grid"} | set(opts) | set(plan)
    assert not set(opts) & set(plan)
    for name, f in {**opts, **plan}.items():  # the same defaults on both sides
        assert sig[name].default == f.default, name


def test_unknown_executor_refused_before_anything_is_written(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with pytest.raises(UsageError, match="unknown executor 'nope'"):
        api.sweep(notebook(tmp_path), {"x": [1]}, executor="nope", runs_dir=runs)
    assert not runs.exists()


@pytest.mark.kernel
def test_unknown_executor_refused_when_every_set_is_done(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb, runs = notebook(tmp_path), tmp_path / "runs"
    grid = tmp_path / "grid.yaml"
    grid.write_text("x: [1]\n")
    args = ["sweep", str(nb), "--grid", str(grid), "--runs-dir", str(runs), "--quiet"]
    assert main([*args, "--executor", "serial"]) == 0
    (sweep_file,) = (runs / "sweeps").glob("*.json")
    before = sweep_file.read_text()
    capsys.readouterr()
    refused = "mlops-nb: error: unknown executor 'nope'. Valid executors: dask, local, serial."
    for extra in ([], ["--json"], ["--no-fork"]):  # resuming: nothing left to run
        assert main([*args, "--executor", "nope", *extra]) == 2
        captured = capsys.readouterr()
        assert (captured.out, captured.err.splitlines()) == ("", [refused])
    assert main([*args, "--executor", "serial", "--scheduler", "tcp://h:8786"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "mlops-nb: error: --scheduler only applies to --executor dask."
    ]
    assert sweep_file.read_text() == before  # not even a new invocation recorded
    assert main([*args, "--executor", "serial", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["invocations"] == 2 and record["runs"][0]["resumed"] is True


@pytest.mark.parametrize(
    ("value", "why"), [("-1", "must be >= 0, got -1"), ("two", "not an integer: 'two'")]
)
def test_cli_retries_must_be_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, why: str
) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text("x: [1]\n")
    args = ["sweep", str(notebook(tmp_path)), "--grid", str(grid), "--retries", value]
    with pytest.raises(SystemExit) as e:
        main([*args, "--runs-dir", str(tmp_path / "runs")])
    assert e.value.code == 2
    assert f"argument --retries: {why}" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("name", ["serial", "local"])
def test_executors_made_directly_refuse_a_scheduler(name: str) -> None:
    with pytest.raises(UsageError, match="--scheduler only applies to --executor dask"):
        executors.make(name, scheduler="tcp://h:8786")
