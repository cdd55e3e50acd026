"""Which pipeline file a command reads: a folder means its pipeline.yaml (said on stderr), a folder
without one and a notebook are one clear line and exit 2, for every `pipeline` action."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.main import main
from tests import nbbuild as b


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    b.write(proj / "a.ipynb", b.params("n: int = 1"), b.code("pass"))
    (proj / "pipeline.yaml").write_text("name: p\nsteps:\n  a: {notebook: a.ipynb}\n")
    return proj


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.mark.parametrize(
    "action",
    [["show"], ["status", "--runs-dir", "{runs}"], ["export", "--format", "dvc"]],
    ids=lambda a: a[0],
)
def test_a_folder_means_its_pipeline_yaml(
    folder: Path, action: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subs = {"{runs}": str(tmp_path / "runs")}
    argv = [subs.get(a, a) for a in action]
    code, out, err = _main(capsys, "pipeline", argv[0], str(folder), *argv[1:])
    assert code == 0, err
    assert f"mlops-nb: {folder} is a folder: using {folder / 'pipeline.yaml'}\n" in err
    assert "Traceback" not in err and "a" in out + err


@pytest.mark.parametrize("action", ["run", "status", "show", "export"])
def test_a_folder_without_a_pipeline_yaml_is_one_line(
    tmp_path: Path, action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "other.yml").write_text("steps: {}\n")
    extra = {"run": ["--runs-dir", str(tmp_path / "runs")], "export": ["--format", "dvc"]}
    extra["status"] = extra["run"]
    code, out, err = _main(capsys, "pipeline", action, str(tmp_path), *extra.get(action, []))
    assert code == 2 and out == ""
    assert err == (
        f"mlops-nb: error: {tmp_path} is a folder with no pipeline.yaml (its YAML files: "
        "other.yml); pass the pipeline file's path.\n"
    )
    assert not (tmp_path / "runs").exists()


def test_a_notebook_is_not_a_pipeline_file(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _main(capsys, "pipeline", "show", str(folder / "a.ipynb"))
    assert code == 2 and err.count("\n") == 1
    assert f"{folder / 'a.ipynb'} is a notebook, not a pipeline file" in err
    assert "`mlops-nb run`" in err


def test_the_export_refusal_names_the_file_to_run(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pf = folder / "pipeline.yaml"
    pf.write_text(
        pf.read_text() + "  g:\n    upstream: [a]\n    gate: {rule: 'a.x > 1'}\n", encoding="utf-8"
    )
    code, _, err = _main(capsys, "pipeline", "export", str(pf), "--format", "argo")
    assert code == 2 and f"run this one with `mlops-nb pipeline run {pf}`." in err
