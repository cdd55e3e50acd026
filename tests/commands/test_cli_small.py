"""Small command-line faults of review5 item 14: `init`'s next-step hint pastes into a shell
whatever the folder's name; an empty path argument ('') names nothing and is refused (it used to
mean the current folder: `init ""` wrote the project there, `strip ""` walked it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlops_nb.main import main
from tests import nbbuild as b

SUFFIX = " && git init && pre-commit install && mlops-nb run notebooks/eda.ipynb"


@pytest.mark.parametrize("name", ["proj ü", "it's", "a$b`c`", "-dash", "x; touch pwned", "plain"])
def test_the_init_hint_pastes_into_a_shell(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--", name]) == 0
    hint = capsys.readouterr().out.splitlines()[-1]
    assert hint.startswith("next: cd ") and hint.endswith(SUFFIX)
    cd = hint.removeprefix("next: ").removesuffix(SUFFIX)
    done = subprocess.run(
        ["bash", "-c", f"{cd} && pwd"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert Path(done.stdout.strip()) == (tmp_path / name).resolve()
    assert not (tmp_path / "pwned").exists()


EMPTY = {
    "init": (
        ["init", ""],
        "init: an empty DIR ('') names no folder; name the project folder, "
        "or leave DIR out for the current one.",
    ),
    "strip": (
        ["strip", ""],
        "an empty PATH ('') names no notebook or folder; give one (. for here).",
    ),
    "lint": (
        ["lint", "nb.ipynb", ""],
        "an empty PATH ('') names no notebook or folder; give one (. for here).",
    ),
    "hook": (
        ["hook", ""],
        "an empty PATH ('') names no notebook or folder; give one (. for here).",
    ),
}  # options given '' (env export -o ''): tests/commands/test_empty_path_options.py
PIPELINE = "an empty FILE ('') names no pipeline file; give its path, or leave FILE out for notebooks/pipeline.yaml."
for action in (["run"], ["status"], ["show"], ["mark-done", "a"], ["export", "--format", "dvc"]):
    EMPTY[f"pipeline {action[0]}"] = (["pipeline", *action, ""], PIPELINE)


@pytest.mark.parametrize("command", list(EMPTY), ids=list(EMPTY))
def test_an_empty_path_is_refused_and_nothing_written(
    command: str,
    tmp_path: Path,
    runs_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.results.factory import make_run

    make_run(runs_dir, packages={"numpy": "2.0.0"})
    project = tmp_path / "here"
    project.mkdir()
    monkeypatch.chdir(project)
    b.write(project / "nb.ipynb", b.params("a = 1", count=1))  # something `strip .` would change
    (project / "pipeline.yaml").write_text("name: p\nsteps:\n  a: {notebook: nb.ipynb}\n")
    before = {p.name: p.read_bytes() for p in project.iterdir()}
    argv, message = EMPTY[command]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"mlops-nb: error: {message}"
    assert {p.name: p.read_bytes() for p in project.iterdir()} == before
