"""`pipeline run --force FILE`: argparse hands `--force [STEP]` the word after it, which was then
taken as a step name (review5 item 12). A value that names a pipeline file is the FILE when none
was given and the default pipeline has no step of that name; `--force STEP [FILE]` and a bare
`--force` keep their meaning; anything else is one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.commands._pipeline_file import file_and_force
from mlops_nb.main import main
from tests import nbbuild as b


def _pipeline(
    folder: Path, steps: tuple[str, ...] = ("a", "b"), name: str = "pipeline.yaml"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    b.write(
        folder / "nb.ipynb", b.params("x = 1"), b.code("import scrapbook as sb\nsb.glue('y', x)")
    )
    body = "".join(f"  {json.dumps(s)}: {{notebook: nb.ipynb}}\n" for s in steps)
    path = folder / name
    path.write_text(f"name: p\nsteps:\n{body}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("file", "force", "expected"),
    [
        (None, ["pipeline.yaml"], ("pipeline.yaml", ["*"])),
        (None, ["other.yml"], ("other.yml", ["*"])),  # missing: load says so
        (None, ["proj"], ("proj", ["*"])),  # a folder holding pipeline.yaml
        (None, ["a", "pipeline.yaml"], ("pipeline.yaml", ["a", "*"])),  # --force a --force FILE
        (None, ["a"], (None, ["a"])),
        (None, ["*"], (None, ["*"])),
        (None, None, (None, None)),
        ("pipeline.yaml", ["a"], ("pipeline.yaml", ["a"])),
        ("pipeline.yaml", ["other.yml"], ("pipeline.yaml", ["other.yml"])),  # refused later
    ],
)
def test_which_value_is_the_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    file: str | None,
    force: list[str] | None,
    expected: tuple[str | None, list[str] | None],
) -> None:
    monkeypatch.chdir(tmp_path)
    _pipeline(tmp_path)
    _pipeline(tmp_path / "proj")
    assert file_and_force(file, force) == expected


def test_a_step_of_the_default_pipeline_keeps_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _pipeline(tmp_path / "notebooks", steps=("prep.yaml", "a"))  # the default file
    (tmp_path / "prep.yaml").write_text("", encoding="utf-8")
    assert file_and_force(None, ["prep.yaml"]) == (None, ["prep.yaml"])
    assert file_and_force(None, ["a"]) == (None, ["a"])
    _pipeline(tmp_path, name="other.yaml")
    assert file_and_force(None, ["other.yaml"]) == ("other.yaml", ["*"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--force", "zz", "pipeline.yaml"],
            "--force: no step 'zz'; steps: a, b.",
        ),
        (
            ["pipeline.yaml", "--force", "pipeline.yaml"],
            "--force: no step 'pipeline.yaml'; steps: a, b. To force every step of the pipeline "
            "file pipeline.yaml: pipeline run pipeline.yaml --force (the file goes before a bare "
            "--force, or after --force STEP).",
        ),
        (
            ["--force", "nope.yaml"],
            "nope.yaml: no pipeline file. Create one or run `mlops-nb init`.",
        ),
    ],
)
def test_what_cannot_be_meant_is_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    _pipeline(tmp_path)
    assert main(["pipeline", "run", *argv, "--runs-dir", "runs"]) == 2
    assert capsys.readouterr().err == f"mlops-nb: error: {message}\n"
    assert not (tmp_path / "runs").exists()


@pytest.mark.kernel
def test_force_then_the_file_runs_every_step_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _pipeline(tmp_path)

    def actions(*argv: str) -> dict[str, str]:
        assert main(["pipeline", "run", *argv, "--runs-dir", "runs"]) == 0
        lines = capsys.readouterr().out.splitlines()[1:-1]
        return {line.split()[0]: line.split()[1] for line in lines}

    assert actions("pipeline.yaml") == {"a": "ran", "b": "ran"}
    assert actions("--force", "pipeline.yaml") == {"a": "ran", "b": "ran"}
    assert actions("--force", "a", "pipeline.yaml") == {"a": "ran", "b": "skipped"}
    assert actions("pipeline.yaml", "--force", "--workers", "1") == {"a": "ran", "b": "ran"}
