"""User errors: clear message, exit code 2, no traceback, nothing started."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_nb.main import main
from tests import nbbuild as b
from tests.execution.conftest import read_only


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlops_nb", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"cells": [', "invalid JSON at line 1"),
        ("[1, 2]", "the top level is not a JSON object"),
        ('{"nbformat": 3, "cells": []}', "no 'worksheets' list"),  # nbformat 3 has worksheets
        ('{"nbformat": 5, "cells": []}', "nbformat 5 is not supported"),
        ('{"nbformat": 4, "cells": [{"source": "x"}]}', "cell 1 has no valid 'cell_type'"),
        ("\udcff", "not a notebook"),
    ],
    ids=["truncated", "array", "old-format", "future-format", "bad-cell", "binary"],
)
def test_malformed_notebook(tmp_path: Path, runs_dir: Path, content: str, message: str) -> None:
    nb = tmp_path / "broken.ipynb"
    if content == "\udcff":
        nb.write_bytes(b"\xff\xfe\x00garbage")
    else:
        nb.write_text(content)
    proc = cli("run", str(nb), "--runs-dir", str(runs_dir))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not runs_dir.exists()


def test_missing_notebook(runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "nope.ipynb", "--runs-dir", str(runs_dir)]) == 2
    assert "no such notebook file" in capsys.readouterr().err


def test_bad_parameters_start_nothing(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(tmp_path / "n.ipynb", b.params("epochs: int = 1"), b.code("pass"))
    proc = cli("run", str(nb), "-p", "epoch", "3", "--runs-dir", str(runs_dir))
    assert proc.returncode == 2
    assert "unknown parameter 'epoch'. Did you mean 'epochs'?" in proc.stderr
    proc = cli("run", str(nb), "-p", "epochs", "abc", "--runs-dir", str(runs_dir))
    assert proc.returncode == 2
    assert "parameter 'epochs' expects int, but was given 'abc' (str)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not runs_dir.exists()


def test_bad_usage(tmp_path: Path) -> None:
    proc = cli("run", "x.ipynb", "--timeout", "-3")
    assert proc.returncode == 2 and "must be > 0" in proc.stderr


@pytest.mark.kernel
def test_read_only_runs_folder(tmp_path: Path) -> None:
    nb = b.write(tmp_path / "n.ipynb", b.code("x = 1"))
    runs = tmp_path / "ro-runs"
    existing = runs / "20260101T000000.000000Z-abcdef"
    existing.mkdir(parents=True)
    (existing / "run.json").write_text(json.dumps({"id": existing.name, "status": "ok"}))
    with read_only(runs):
        proc = cli("run", str(nb), "--runs-dir", str(runs))
    assert proc.returncode == 2
    assert "not writable" in proc.stderr and "--runs-dir" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads((existing / "run.json").read_text())["status"] == "ok"  # nothing lost


def test_help_is_fast_and_light() -> None:
    code = (
        "import sys, time; t=time.perf_counter(); from mlops_nb.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pandas', 'papermill', 'sklearn', 'nbclient', 'scrapbook') "
        "if m in sys.modules]\nprint('HEAVY', heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in proc.stdout


def test_every_command_is_registered() -> None:
    import importlib.util

    from mlops_nb.main import COMMANDS

    missing = [m for m, _ in COMMANDS.values() if importlib.util.find_spec(m) is None]
    assert not missing


def test_missing_cwd_is_a_usage_error(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(tmp_path / "n.ipynb", b.code("x = 1"))
    assert main(["run", str(nb), "--cwd", str(tmp_path / "nope"), "--runs-dir", str(runs_dir)]) == 2
    assert "--cwd" in capsys.readouterr().err
    assert not runs_dir.exists()
