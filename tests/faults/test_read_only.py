"""Issue 19, fault 2: read-only. ``chmod`` by a non-root user (root bypasses modes): reads keep
working silently, what cannot be done exits 2 with one line, a run whose folder became
read-only reads as ``lost``, never ``running`` forever."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.conftest import chown, collected, mlops, notebook, one_line_error

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@pytest.fixture
def shared(fault_user: str | None) -> Iterator[Path]:
    """A folder the fault user owns (pytest's tmp folders are private to root)."""
    d = Path(tempfile.mkdtemp(prefix="mlops-nb-ro-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        for p in [d, *d.rglob("*")]:
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(d, ignore_errors=True)


def _read_only(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)


def test_read_only_store(shared: Path, fault_user: str | None) -> None:
    nb = notebook(shared / "tiny.ipynb", "x = 1", "print(x)")
    grid = shared / "grid.yaml"
    grid.write_text(json.dumps({"x": [1, 2]}))
    runs = shared / "runs"
    chown(shared, fault_user)
    done = mlops("run", str(nb), "--runs-dir", str(runs), user=fault_user)
    assert done.returncode == 0, done.stderr
    _read_only(runs)

    # reads keep working, silently
    shown = mlops("collect", "--runs-dir", str(runs), "--format", "json", user=fault_user)
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr
    assert [r["status"] for r in json.loads(shown.stdout)] == ["ok"]
    latest = mlops("show", "latest", "--runs-dir", str(runs), "--json", user=fault_user)
    assert latest.returncode == 0 and json.loads(latest.stdout)["status"] == "ok"

    # what cannot be done: exit 2, one line
    for args in (
        ["reindex", "--runs-dir", str(runs)],
        ["run", str(nb), "--runs-dir", str(runs)],
        ["sweep", str(nb), "--grid", str(grid), "--runs-dir", str(runs)],
    ):
        done = mlops(*args, user=fault_user)
        assert done.returncode == 2, (args, done.stderr)
        one_line_error(done, "not writable")
        assert "rebuilding" not in done.stderr
    assert sorted(p.name for p in runs.iterdir() if p.name.startswith(".")) == []


def test_run_folder_made_read_only_during_the_run(shared: Path, fault_user: str | None) -> None:
    nb = notebook(
        shared / "lockout.ipynb",
        "output_dir = ''",
        "import os\nos.chmod(output_dir, 0o555)\nprint('locked out')",
    )
    runs = shared / "runs"
    chown(shared, fault_user)
    done = mlops("run", str(nb), "--runs-dir", str(runs), user=fault_user)
    assert done.returncode == 2, done.stderr
    one_line_error(done, "not writable")
    (row,) = collected(runs, user=fault_user)
    assert row["status"] == "lost"  # its record could not be finished: never `running` forever
