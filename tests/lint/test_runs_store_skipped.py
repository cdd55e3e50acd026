"""`strip .` and `lint .` never walk into a runs store: its output notebooks are the runs'
records (scraps, figures). review5 item 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlops_nb.lint import files
from mlops_nb.main import main
from mlops_nb.store import index
from tests import nbbuild as b

pytestmark = [pytest.mark.kernel]


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A project with one notebook of its own (with outputs) and a real run, in a store that
    is not the configured one (MLOPS_NB_RUNS_DIR names another folder): found by its marks."""
    proj = tmp_path / "proj"
    nb = b.write(
        proj / "nb.ipynb",
        b.params("x = 1", count=1),
        b.code("import scrapbook as sb\nsb.glue('y', x * 2)\nprint('hi')", count=2),
    )
    store = proj / "results" / "store"
    assert main(["run", str(nb), "--runs-dir", str(store), "--json"]) == 0
    run_id = str(json.loads(capsys.readouterr().out)["id"])
    b.write(
        proj / "nb.ipynb",
        b.params("x = 1", count=1),
        b.code(
            "print(x)",
            count=2,
            outputs=[{"output_type": "stream", "name": "stdout", "text": "1\n"}],
        ),
    )
    return store / run_id / "output.ipynb"


def _scraps(output_nb: Path) -> list[object]:
    nb = json.loads(output_nb.read_text(encoding="utf-8"))
    return [o for c in nb["cells"] for o in c.get("outputs", [])]


def test_strip_and_lint_of_the_project_leave_the_store_alone(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = project.parents[3]
    monkeypatch.chdir(proj)
    before = project.read_bytes()
    assert _scraps(project)  # the run's outputs: the glued scrap and the print
    # lint and strip walk folders with iter_notebook_paths
    assert [str(p) for p in files.iter_notebook_paths(["."])] == ["nb.ipynb"]
    assert main(["lint", "."]) == 0
    assert main(["strip", "."]) == 1
    assert capsys.readouterr().out.startswith("nb.ipynb: stripped ")
    assert project.read_bytes() == before
    assert main(["strip", "--check", "."]) == 0  # nothing left to strip outside the store


def test_a_named_store_is_refused_a_named_run_notebook_is_skipped(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = project.parents[1]
    for command in (["strip", "--check"], ["lint"]):
        assert main([*command, str(store)]) == 2
        err = capsys.readouterr().err
        assert err == (
            f"mlops-nb: error: {store} is a runs store: its output notebooks are the runs' "
            "records, not notebooks to check or strip. Name the notebooks you mean, or a folder "
            "without the store.\n"
        )
    # named (as pre-commit passes the files git tracks): left as recorded, with a note
    # (review6 item 5; tests/lint/test_run_folders_left_alone.py)
    assert main(["strip", "--check", str(project)]) == 0
    assert f"{project}: skipped: it is in the run folder" in capsys.readouterr().err
    # the configured store (MLOPS_NB_RUNS_DIR) is skipped even before it has a run in it
    configured = project.parents[3] / "empty-store"
    configured.mkdir()
    shutil.copy(project.parents[3] / "nb.ipynb", configured / "copy.ipynb")
    monkeypatch.setenv("MLOPS_NB_RUNS_DIR", str(configured))
    assert [p.name for p in files.iter_notebook_paths([project.parents[3]])] == ["nb.ipynb"]


def test_the_index_name_is_the_stores(tmp_path: Path) -> None:
    store = tmp_path / "elsewhere"
    store.mkdir()
    (store / index.INDEX).write_bytes(b"")  # the file the store's index is kept in
    b.write(store / "left-out.ipynb", b.params("a = 1"))
    b.write(tmp_path / "nb.ipynb", b.params("a = 1"))
    assert [p.name for p in files.iter_notebook_paths([tmp_path])] == ["nb.ipynb"]
