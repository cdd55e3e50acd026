"""A damaged sweep record (a core key missing, a value of the wrong type; hand-edited or
truncated) is one line, exit 2, "Delete it to start over", and is left as it was (review3
finding 2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.main import main
from mlops_nb.store.record import OWNER_KEYS
from mlops_nb.sweep.record import CORE_KEYS
from tests import nbbuild as b

pytestmark = pytest.mark.kernel

REQUIRED = [k for k in CORE_KEYS if k not in ("error", "schema_version", *OWNER_KEYS)]
# A record without schema_version is a 0.x record (version 0): it migrates, it is not damaged.
DAMAGED = [
    *[pytest.param(key, None, id=f"no-{key}") for key in REQUIRED],
    pytest.param("options", [], id="options-a-list"),
    pytest.param("runs", {}, id="runs-an-object"),
    pytest.param("invocations", "2", id="invocations-text"),
    pytest.param("workers", True, id="workers-a-bool"),
    pytest.param("created_at", 3, id="created_at-a-number"),
    pytest.param("pid", "x", id="owner-pid-text"),
    pytest.param("options.retries", "1", id="option-retries-text"),
    pytest.param("options.force", "yes", id="option-force-text"),
    pytest.param("runs.params", [1], id="entry-params-a-list"),
    pytest.param("runs.duration_s", "1s", id="entry-duration-text"),
]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A notebook, its grid and a store holding the finished sweep of it (one real kernel)."""
    folder = tmp_path_factory.mktemp("damaged")
    nb = b.write(folder / "train.ipynb", b.params("model = 'rf'"), b.code("x = model"))
    grid = folder / "g.yaml"
    grid.write_text("model: [rf]\n")
    runs_dir = folder / "runs"
    args = ["sweep", str(nb), "--grid", str(grid), "--executor", "serial", "--quiet"]
    assert main([*args, "--no-prewarm", "--runs-dir", str(runs_dir)]) == 0
    return nb, grid, runs_dir


@pytest.mark.parametrize(("key", "value"), DAMAGED)
def test_damaged_sweep_record_is_one_line_exit_2(
    finished: tuple[Path, Path, Path],
    tmp_path: Path,
    key: str,
    value: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    nb, grid, original = finished
    runs_dir = tmp_path / "runs"
    shutil.copytree(original, runs_dir)
    (path,) = (runs_dir / "sweeps").glob("*.json")
    data = json.loads(path.read_text())
    outer, _, inner = key.partition(".")
    where = (data[outer][0] if outer == "runs" else data[outer]) if inner else data
    if value is None:
        del where[inner or key]
    else:
        where[inner or key] = value
    path.write_text(json.dumps(data))
    capsys.readouterr()
    args = ["sweep", str(nb), "--grid", str(grid), "--executor", "serial", "--no-prewarm"]
    assert main([*args, "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}: not a sweep record (" in err and "Delete it to start over" in err
    assert (inner or key) in err
    assert json.loads(path.read_text()) == data  # left as it was
