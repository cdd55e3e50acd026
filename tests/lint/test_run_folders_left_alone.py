"""`strip`, `lint` and `hook` never change nor judge a recorded run's files, whatever path they
come by: a run folder named (refused), a run's notebook named (skipped with a note, as
pre-commit passes every tracked notebook of a repository that commits its runs store), a run
folder copied under another name. review6 item 5."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.store.runs import new_run_id
from tests import nbbuild as b

pytestmark = [pytest.mark.kernel]

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = (["strip"], ["strip", "--check"], ["lint"], ["lint", "--format", "json"], ["hook"])


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run's folder (its output notebook has outputs and counts), made once."""
    proj = tmp_path_factory.mktemp("recorded")
    nb = b.write(
        proj / "nb.ipynb",
        b.params("x = 1"),
        b.code("import scrapbook as sb\nsb.glue('y', x * 2)\nprint('hi')"),
    )
    assert main(["run", str(nb), "--runs-dir", str(proj / "runs")]) == 0
    (folder,) = (proj / "runs").glob("2*")
    (folder / "plots").mkdir()
    shutil.copy(folder / "output.ipynb", folder / "plots" / "made-by-the-run.ipynb")
    return folder


@pytest.fixture
def project(recorded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project: its store is not the configured one (found by its marks)."""
    proj = tmp_path / "proj"
    shutil.copytree(recorded.parents[1], proj)
    monkeypatch.chdir(proj)
    return proj


def _bytes(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_run_folder_named_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (run,) = Path("runs").glob("2*")
    before = _bytes(project / "runs")
    for folder in (run, run / "plots"):
        for command in COMMANDS:
            assert main([*command, f"{folder}/"]) == 2, command
            err = capsys.readouterr().err
            where = "is" if folder == run else "is in"
            assert err.startswith(f"mlops-nb: error: {folder} {where} the run folder "), err
            assert "a recorded run's notebooks are its results" in err
            assert len(err.splitlines()) == 1
    assert _bytes(project / "runs") == before


def test_a_run_notebook_named_is_skipped_with_a_note(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (run,) = Path("runs").glob("2*")
    own = b.write(Path("own.ipynb"), b.params("a = 1", count=1), b.code("print(a)", count=2))
    before = _bytes(project / "runs")
    named = [run / "output.ipynb", run / "plots" / "made-by-the-run.ipynb"]
    for command in COMMANDS:
        assert main([*command, *map(str, named)]) == 0, command
        captured = capsys.readouterr()
        assert captured.out in ("", "[]\n")
        assert captured.err.splitlines() == [
            f"{p}: skipped: it is in the run folder {os.path.realpath(run)}; a recorded run's "
            "notebooks are its results, kept as they ran (a copy made elsewhere can be linted "
            "and stripped)."
            for p in named
        ]
    # beside a notebook of the project, which is still stripped
    assert main(["hook", str(own), str(named[0])]) == 1
    assert capsys.readouterr().out.startswith("own.ipynb: stripped 2 execution counts")
    # a link to a run's notebook: the file a write would change is the record
    os.symlink(os.path.abspath(named[0]), "link.ipynb")
    assert main(["strip", "link.ipynb"]) == 0
    assert "link.ipynb: skipped" in capsys.readouterr().err
    assert _bytes(project / "runs") == before


def test_a_run_folder_copied_under_another_name_is_still_a_record(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (run,) = Path("runs").glob("2*")
    shutil.copytree(run, "archive/best-model")
    b.write(Path("archive/notes.ipynb"), b.params("a = 1", count=1))
    before = _bytes(project / "archive" / "best-model")
    assert main(["strip", "archive"]) == 1  # walked: the run folder is left out
    assert capsys.readouterr().out == "archive/notes.ipynb: stripped 1 execution count\n"
    assert main(["lint", "archive/best-model"]) == 2
    assert main(["strip", "archive/best-model/output.ipynb"]) == 0
    assert "skipped" in capsys.readouterr().err
    assert _bytes(project / "archive" / "best-model") == before


def test_a_run_json_that_is_no_run_record_does_not_hide_notebooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "run.json").write_text('{"epochs": 3}', encoding="utf-8")
    b.write(tmp_path / "cfg" / "train.ipynb", b.params("a = 1", count=1))
    for target in ("cfg", "cfg/train.ipynb"):
        assert main(["strip", "--check", target]) == 1
        assert capsys.readouterr().out == "cfg/train.ipynb: would strip 1 execution count\n"


def _exclude() -> str:
    manifest = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    patterns = set(re.findall(r"^  exclude: '(.*)'$", manifest, re.MULTILINE))
    assert len(patterns) == 1 and manifest.count("  exclude: ") == 3  # one for each hook
    return str(patterns.pop())


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        (f"runs/{new_run_id()}/output.ipynb", True),
        (f"runs/{new_run_id('my-label')}/.output.partial.ipynb", True),
        (f"results/store/{new_run_id()}/plots/fig.ipynb", True),
        (f"{new_run_id()}/output.ipynb", True),
        ("notebooks/train.ipynb", False),
        ("runs/notes/analysis.ipynb", False),
        ("runs/20261130-notes.ipynb", False),
        ("runs/20261130T101010.123456Z-0a1b2c-modèle ü/output.ipynb", True),  # any name
    ],
)
def test_the_hooks_exclude_run_folders(path: str, excluded: bool) -> None:
    """pre-commit matches `exclude` with `re.search` on the repository-relative path."""
    assert bool(re.search(_exclude(), path)) is excluded
