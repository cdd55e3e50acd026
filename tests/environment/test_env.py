"""`mlops-nb env export / diff` on real runs (the parts that need no uv, hadolint or network)."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest

from mlops_nb.execution import provenance
from mlops_nb.main import main
from mlops_nb.store import runs as store
from tests import nbbuild as b

pytestmark = [pytest.mark.kernel]


@pytest.fixture
def run_folder(tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    nb = b.write(
        tmp_path / "tiny.ipynb",
        b.params("x = 1"),
        b.code("import scrapbook as sb\nsb.glue('y', x * 2)"),
    )
    assert main(["run", str(nb), "--runs-dir", str(runs_dir), "--json"]) == 0
    return runs_dir / str(json.loads(capsys.readouterr().out)["id"])


def test_requirements_pin_the_run_without_tooling_or_unindexed(
    run_folder: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlops_nb.environment.lock import names_in

    assert main(["env", "export", run_folder.name, "--runs-dir", str(runs_dir)]) == 0
    text = capsys.readouterr().out
    pinned = names_in(text)
    recorded = json.loads((run_folder / store.ENVIRONMENT).read_text())
    rec = store.read_record(run_folder)
    unindexed = set(rec["environment"]["unindexed"])
    assert "mlops-nb" in unindexed  # this checkout is installed editable: no index serves it
    assert rec["environment"]["unindexed"]["mlops-nb"]["editable"] is True
    expected = {
        k: v for k, v in recorded.items() if k not in provenance.INSTALLER_TOOLING | unindexed
    }
    assert pinned == expected
    assert "pip" in recorded and "pip" not in pinned
    assert f"Python {platform.python_version()}" in text
    assert "Not from an index: mlops-nb==" in text


def test_environment_hash_ignores_installer_tooling(run_folder: Path) -> None:
    rec = store.read_record(run_folder)
    pkgs = json.loads((run_folder / store.ENVIRONMENT).read_text())
    assert rec["environment"]["packages_sha256"] == provenance.packages_digest(pkgs)
    bumped = {**pkgs, "pip": "0.1", "setuptools": "1.0", "wheel": "0.1"}
    assert provenance.packages_digest(bumped) == provenance.packages_digest(pkgs)
    assert provenance.packages_digest({**pkgs, "pandas": "0.0.1"}) != provenance.packages_digest(
        pkgs
    )


def test_env_diff(run_folder: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["env", "diff", run_folder.name, run_folder.name, "--runs-dir", str(runs_dir)]) == 0
    assert "same environment" in capsys.readouterr().out
    # another run, as if made after an upgrade, a new package and a removal elsewhere
    other = store.create_run_folder(runs_dir, store.new_run_id("other"))
    pkgs = json.loads((run_folder / store.ENVIRONMENT).read_text())
    pkgs["pandas"], pkgs["newpkg"] = "0.0.1", "1.0"
    del pkgs["pyyaml"]
    (other / store.ENVIRONMENT).write_text(json.dumps(pkgs))
    rec = store.read_record(run_folder)
    rec["id"] = other.name
    rec["environment"]["python"] = "3.99.0"
    (other / store.RECORD).write_text(json.dumps(rec))
    argv = ["env", "diff", run_folder.name, other.name, "--runs-dir", str(runs_dir)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"python: {platform.python_version()} -> 3.99.0" in out
    assert "  + newpkg==1.0" in out
    assert "  - pyyaml==" in out
    assert "  ~ pandas: " in out
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["added"] == {"newpkg": "1.0"}
    assert data["changed"]["pandas"][1] == "0.0.1"


def test_env_export_errors(
    run_folder: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["env", "export", run_folder.name, "--runs-dir", str(runs_dir)]
    assert main([*base, "--format", "dockerfile"]) == 2
    assert "give -o DIR" in capsys.readouterr().err
    (run_folder / store.ENVIRONMENT).unlink()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "no recorded environment" in err
    assert "Traceback" not in err


def test_env_export_names_the_files_it_wrote_once_each_slash(
    run_folder: Path, runs_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """review4 item 15: `-o DIR/` printed `wrote DIR//requirements.txt`."""
    out = tmp_path / "env out"
    argv = ["env", "export", run_folder.name, "--runs-dir", str(runs_dir), "-o", f"{out}/"]
    assert main(argv) == 0
    lines = capsys.readouterr().err.splitlines()
    wrote = [line.split("wrote ", 1)[1] for line in lines if "wrote " in line]
    assert wrote and all(Path(w).is_file() and "//" not in w for w in wrote), lines
    assert str(out / "requirements.txt") in wrote
