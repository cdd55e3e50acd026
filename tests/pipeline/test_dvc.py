"""DVC, for real: DVC-tracked inputs in records and staleness, and pipelines exported to dvc.yaml.

Runs in tests/integrations.py's ``repro`` environment (needs the ``dvc`` command).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mlops_nb.main import main
from tests import nbbuild as b
from tests.pipeline.gate_free import gate_free_example

pytestmark = [pytest.mark.dvc, pytest.mark.git, pytest.mark.kernel]

READER = """
import scrapbook as sb
rows = open(data).read().splitlines()
sb.glue("n_rows", len(rows) - 1)
sb.glue("score", (len(rows) - 1) * scale)
"""


def dvc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run(
        [shutil.which("dvc") or "dvc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, f"dvc {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def dvc_repo(git_repo: Path) -> Path:
    dvc(git_repo, "init", "-q")
    (git_repo / "data.csv").write_text("x\n1\n2\n3\n")
    dvc(git_repo, "add", "-q", "data.csv")
    b.write(
        git_repo / "reader.ipynb",
        b.params('data = "data.csv"\nscale = 1.0\noutput_dir = "."\nupstream: dict | None = None'),
        b.code(READER),
    )
    return git_repo


def _dvc_md5(dvc_file: Path) -> str:
    return str(yaml.safe_load(dvc_file.read_text())["outs"][0]["md5"])


def test_record_carries_dvc_identity_and_status_names_it(
    dvc_repo: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = dvc_repo / "reader.ipynb"
    assert main(["run", str(nb), "--runs-dir", str(runs_dir), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    ident = rec["inputs"]["data.csv"]["dvc"]
    md5 = _dvc_md5(dvc_repo / "data.csv.dvc")
    assert ident["md5"] == md5 == hashlib.md5((dvc_repo / "data.csv").read_bytes()).hexdigest()
    assert ident["size"] == (dvc_repo / "data.csv").stat().st_size
    assert ident["matches"] is True
    assert ident["file"].endswith("data.csv.dvc")
    assert main(["show", rec["id"], "--runs-dir", str(runs_dir)]) == 0
    assert f"DVC md5 {md5[:8]} (data.csv.dvc)" in capsys.readouterr().out

    pipe = dvc_repo / "pipeline.yaml"
    pipe.write_text(
        "name: p\nsteps:\n  read:\n    notebook: reader.ipynb\n    params: {data: data.csv}\n"
    )
    assert main(["pipeline", "run", str(pipe), "--runs-dir", str(runs_dir)]) == 0
    # the data change not yet recorded by DVC
    (dvc_repo / "data.csv").write_text("x\n1\n2\n3\n4\n")
    capsys.readouterr()
    assert main(["pipeline", "status", str(pipe), "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert f"input file data.csv changed (DVC md5 still {md5[:8]}" in out
    dvc(dvc_repo, "add", "-q", "data.csv")
    new_md5 = _dvc_md5(dvc_repo / "data.csv.dvc")
    assert main(["pipeline", "status", str(pipe), "--runs-dir", str(runs_dir)]) == 0
    assert f"input file data.csv changed (DVC md5 {md5[:8]} -> {new_md5[:8]})" in (
        capsys.readouterr().out
    )
    # diff of two runs names the DVC identities
    assert main(["run", str(nb), "--runs-dir", str(runs_dir), "--json"]) == 0
    rec2 = json.loads(capsys.readouterr().out)
    assert main(["diff", rec["id"], rec2["id"], "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert f"DVC md5 {new_md5[:8]}" in out
    assert f"DVC md5 {md5[:8]}" in out


def test_dvc_lock_outputs_are_identified(dvc_repo: Path, runs_dir: Path) -> None:
    """Data produced by a DVC stage is identified from dvc.lock, like `dvc add`ed data."""
    (dvc_repo / "dvc.yaml").write_text(
        yaml.safe_dump(
            {
                "stages": {
                    "make": {
                        "cmd": "cp data.csv made.csv",
                        "deps": ["data.csv"],
                        "outs": ["made.csv"],
                    }
                }
            }
        )
    )
    dvc(dvc_repo, "repro", "-q")
    from mlops_nb.dvc_adapter import identity

    ident = identity(dvc_repo / "made.csv")
    assert ident is not None
    assert ident["file"].endswith("dvc.lock")
    assert ident["matches"] is True
    (dvc_repo / "made.csv").write_text("changed\n")
    assert identity(dvc_repo / "made.csv")["matches"] is False  # type: ignore[index]
    assert identity(dvc_repo / "reader.ipynb") is None


def _export(pipe: Path) -> Path:
    assert main(["pipeline", "export", str(pipe), "--format", "dvc"]) == 0
    return pipe.parent / "dvc.yaml"


def test_grid_pipeline_repro_skip_and_exp_run(dvc_repo: Path, runs_dir: Path) -> None:
    pipe = dvc_repo / "pipeline.yaml"
    pipe.write_text(
        "name: g\nsteps:\n"
        "  read:\n    notebook: reader.ipynb\n    grid: {scale: [1.0, 3.0]}\n"
        "    select: {metric: score, mode: max}\n"
        "  again:\n    notebook: reader.ipynb\n    upstream: [read]\n    params: {scale: 2.0}\n"
    )
    dvc_yaml = _export(pipe)
    stages = yaml.safe_load(dvc_yaml.read_text())["stages"]
    assert stages["read_grid"]["matrix"] == {"scale": [1.0, 3.0]}
    assert "data.csv" in stages["again"]["deps"]
    assert yaml.safe_load((dvc_repo / "params.yaml").read_text()) == {"again": {"scale": 2.0}}
    first = dvc(dvc_repo, "repro")
    assert "read_grid@0" in first.stdout or "read_grid@1" in first.stdout
    picked = json.loads((dvc_repo / "metrics" / "read.json").read_text())
    assert picked["score"] == 9.0  # 3 rows x 3.0: the best of the grid
    assert picked["selected"] == "outputs/read_grid/3.0"
    assert json.loads((dvc_repo / "metrics" / "again.json").read_text())["score"] == 6.0
    second = dvc(dvc_repo, "repro")
    assert "Running stage" not in second.stdout
    assert "up to date" in second.stdout
    git(dvc_repo, "add", "-A")
    git(dvc_repo, "commit", "-qm", "pipeline")  # experiments start from a commit
    dvc(dvc_repo, "exp", "run", "-S", "again.scale=5.0")
    assert json.loads((dvc_repo / "metrics" / "again.json").read_text())["score"] == 15.0
    shown = dvc(dvc_repo, "metrics", "show", "--json")
    assert "15.0" in shown.stdout or "15" in shown.stdout


@pytest.mark.slow
def test_example_pipeline_under_dvc_repro(git_repo: Path, runs_dir: Path) -> None:
    pipe = gate_free_example(git_repo)  # gates run only under `pipeline run`
    project = pipe.parent
    dvc(git_repo, "init", "-q")
    assert main(["pipeline", "export", "--format", "dvc", str(pipe)]) == 0
    first = dvc(project, "repro")
    grid = [
        f"train_grid@{m}-{w}" for m in ("logreg", "random_forest") for w in ("balanced", "none")
    ]
    for stage in ("eda", *grid, "train", "evaluate", "report"):
        assert f"Running stage '{stage}'" in first.stdout
    assert (project / "outputs" / "train" / "model.joblib").is_file()
    assert (project / "outputs" / "report.html").is_file()
    evaluate = json.loads((project / "metrics" / "evaluate.json").read_text())
    assert evaluate["f1"] > evaluate["baseline_f1"] + 0.3
    records = list(runs_dir.glob("*/run.json"))
    assert len(records) == 6  # eda, 4 grid runs, evaluate
    second = dvc(project, "repro")
    assert "Running stage" not in second.stdout
    assert len(list(runs_dir.glob("*/run.json"))) == 6
