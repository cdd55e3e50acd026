"""`pipeline export --format dvc` and `pipeline select` without DVC itself (the file, its checks).

`dvc repro` on these files runs in tests/pipeline/test_dvc.py (the repro environment).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from mlops_nb.main import main
from tests import nbbuild as b

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "mylib.py").write_text("K = 2\n")
    (tmp_path / "data.csv").write_text("x\n1\n")
    b.write(
        tmp_path / "nb.ipynb",
        b.params(
            'data = "data.csv"\nlabel = "a b"\nC = 1.0\nflag = True\noutput_dir = "."\nupstream: dict | None = None'
        ),
        b.code("import mylib\nimport scrapbook as sb\nsb.glue('score', C * mylib.K)"),
    )
    return tmp_path


def _write(project: Path, steps: str) -> Path:
    p = project / "pipeline.yaml"
    p.write_text("name: t\nsteps:\n" + steps)
    return p


def test_stages_deps_params_and_quoting(project: Path) -> None:
    pipe = _write(
        project,
        "  a:\n    notebook: nb.ipynb\n    params: {label: 'x y', C: 0.5, flag: false, data: data.csv}\n"
        "  b:\n    notebook: nb.ipynb\n    upstream: [a]\n    params: {label: 'costs $5'}\n"
        "    grid: {C: [1, 2]}\n    select: {metric: score, mode: min}\n",
    )
    assert main(["pipeline", "export", str(pipe), "--format", "dvc"]) == 0
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    assert list(stages) == ["a", "b_grid", "b"]
    a = stages["a"]
    assert {"nb.ipynb", "data.csv", "mylib.py"} <= set(a["deps"])
    assert a["outs"] == ["outputs/a"]
    assert a["metrics"] == [{"metrics/a.json": {"cache": False}}]
    assert '-r label "${a.label}"' in a["cmd"]
    assert "-p C ${a.C}" in a["cmd"]
    assert """-y '{"flag":false}'""" in a["cmd"]
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params == {
        "a": {"label": "x y", "C": 0.5, "data": "data.csv"}
    }  # 'costs $5' stays literal
    grid = stages["b_grid"]
    assert grid["matrix"] == {"C": [1, 2]}
    assert "-r label 'costs $5'" in grid["cmd"]
    assert "--upstream a=outputs/a" in grid["cmd"]
    assert "outputs/a" in grid["deps"]
    assert "--mode min" in stages["b"]["cmd"]
    assert stages["b"]["deps"] == [
        "outputs/b_grid/1",
        "metrics/b_grid/1.json",
        "outputs/b_grid/2",
        "metrics/b_grid/2.json",
    ]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            "  a:\n    notebook: nb.ipynb\n    grid: {label: ['a b', c]}\n    select: {metric: score}\n",
            "cannot name a DVC output",
        ),
        ("  a:\n    notebook: nb.ipynb\n    grid: {C: [1, 2]}\n", "needs select"),
    ],
    ids=["unsafe-grid-value", "grid-without-metric"],
)
def test_export_refuses_what_dvc_cannot_run(
    project: Path, capsys: pytest.CaptureFixture[str], steps: str, message: str
) -> None:
    pipe = _write(project, steps)
    for fmt in ("dvc", "argo"):
        if fmt == "argo" and "cannot name" in message:
            continue
        assert (
            main(
                [
                    "pipeline",
                    "export",
                    str(pipe),
                    "--format",
                    fmt,
                    "-o",
                    str(project / f"x.{fmt}.yaml"),
                ]
            )
            == 2
        )
        err = capsys.readouterr().err
        assert message in err
        assert "Traceback" not in err
    assert not (project / "dvc.yaml").exists()


def test_dvc_yaml_outside_the_project_is_refused(
    project: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = _write(project, "  a:\n    notebook: nb.ipynb\n")
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "dvc.yaml"
    assert main(["pipeline", "export", str(pipe), "--format", "dvc", "-o", str(elsewhere)]) == 2
    assert "must be inside the project" in capsys.readouterr().err
    assert not elsewhere.exists()


def test_select_copies_the_best_candidate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["pipeline", "select", "--metric", "f1", "--output-dir", str(tmp_path / "best")]
    argv += ["--metrics-file", str(tmp_path / "best.json")]
    for name, f1 in (("a", 0.5), ("b", 0.9), ("c", float("nan")), ("d", 0.7)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.txt").write_text(name)
        (tmp_path / f"{name}.json").write_text(json.dumps({"f1": f1}))
        argv += ["--candidate", str(tmp_path / name), str(tmp_path / f"{name}.json")]
    assert main(argv) == 0
    assert (tmp_path / "best" / "model.txt").read_text() == "b"
    assert json.loads((tmp_path / "best.json").read_text()) == {
        "f1": 0.9,
        "selected": str(tmp_path / "b"),
    }
    assert main([*argv, "--mode", "min"]) == 0  # replaces the folder
    assert (tmp_path / "best" / "model.txt").read_text() == "a"
    argv[3] = "recall"
    assert main(argv) == 2
    assert "no candidate has a numeric 'recall'" in capsys.readouterr().err
