"""The same notebook started from two folders is one notebook, two notebooks named alike are two
(review5 item 6): the report's sections and ``collect --notebook`` go by the notebook's recorded
absolute path (the section by its path relative to the store's project root), not by the path
as it was typed; records are not rewritten, and older records without an absolute path keep
the path they recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.report.notebooks import project_root
from mlops_nb.store import index
from tests.results.factory import make_run


def _run(runs: Path, path: str, abspath: Path | None, f1: float) -> str:
    """A run that recorded ``path`` (as typed) and ``abspath`` (None: an older record)."""
    folder = make_run(runs, scraps={"f1": f1}, notebook=path)
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    if abspath is None:
        del record["notebook"]["abspath"]
    else:
        record["notebook"]["abspath"] = str(abspath)
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return folder.name


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A git project with ``nb.py``, ``d2/nb.py`` (another notebook) and its store ``runs/``:
    ``top`` ran ./nb.py; ``d2`` ran d2/nb.py from the project, ``d2_here`` from ``d2/`` (it
    recorded ``nb.py``); ``old`` is a record without an absolute path."""
    proj = tmp_path / "it's a proj"  # a quote in the root: the key's SQL literal escapes it
    (proj / ".git").mkdir(parents=True)
    (proj / "d2").mkdir()
    runs = proj / "runs"
    real = Path(project_root(runs))
    ids = {
        "top": _run(runs, "nb.py", real / "nb.py", 1.0),
        "d2": _run(runs, "d2/nb.py", real / "d2" / "nb.py", 1.5),
        "d2_here": _run(runs, "nb.py", real / "d2" / "nb.py", 2.0),
        "old": _run(runs, "old.ipynb", None, 0.5),
    }
    index.rebuild(runs)
    return proj, ids


def _listed(capsys: pytest.CaptureFixture[str], *argv: str) -> set[str]:
    capsys.readouterr()
    assert main(["collect", *argv, "--columns", "id", "--format", "json"]) == 0
    return {row["id"] for row in json.loads(capsys.readouterr().out)}


def test_collect_notebook_names_the_file_the_path_names(
    project: tuple[Path, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proj, ids = project
    monkeypatch.chdir(proj)
    rd = ("--runs-dir", "runs")
    assert _listed(capsys, *rd, "--notebook", "nb.py") == {ids["top"]}
    assert _listed(capsys, *rd, "--notebook", "d2/nb.py") == {ids["d2"], ids["d2_here"]}
    assert _listed(capsys, *rd, "--notebook", "old.ipynb") == {ids["old"]}
    monkeypatch.chdir(proj / "d2")
    assert _listed(capsys, "--runs-dir", "../runs", "--notebook", "nb.py") == {
        ids["d2"],
        ids["d2_here"],
    }
    monkeypatch.chdir(proj.parent)  # no notebook there: a recorded path or a file name, as before
    both = {ids["top"], ids["d2"], ids["d2_here"]}
    assert _listed(capsys, "--runs-dir", str(proj / "runs"), "--notebook", "nb.py") == both


def _sections(page: str) -> dict[str, set[str]]:
    """``{section key: the run ids its section names}`` (titles give the file name only)."""
    from mlops_nb.report.model import slug

    anchors = re.findall(r'<a href="#sec-([^"]+)">', page)
    out = {}
    for key in ("notebook-nb.py", "notebook-d2/nb.py", "notebook-old.ipynb"):
        assert slug(key) in anchors, (key, anchors)
        m = re.search(rf'<section class="section" id="sec-{re.escape(slug(key))}">', page)
        assert m, key
        rest = page[m.end() :]
        end = re.search(r'<section class="section" id="(sec-|durations)', rest)
        body = rest[: end.start()] if end else rest
        out[key] = set(re.findall(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}", body))
    assert len(anchors) == 3
    return out


def test_one_notebook_is_one_section_whatever_folder_ran_it(
    project: tuple[Path, dict[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proj, ids = project
    monkeypatch.chdir(proj)
    out = tmp_path / "report.html"
    assert main(["report", "--runs-dir", "runs", "--sort", "f1", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    sections = _sections(page)
    assert sections["notebook-nb.py"] == {ids["top"]}  # not d2's best run
    assert sections["notebook-d2/nb.py"] == {ids["d2"], ids["d2_here"]}
    assert sections["notebook-old.ipynb"] == {ids["old"]}
    for title, listed in (
        ("notebook nb.py", {ids["top"]}),
        ("notebook d2/nb.py", {ids["d2"], ids["d2_here"]}),
    ):
        argv = _hint(page, title)
        assert _listed(capsys, *argv) == listed, argv


def _hint(page: str, title: str) -> list[str]:
    """The "list them all" command of the section ``title`` (a section of a few runs has none:
    the one its table's caption would print is built the same way, ``report.listing``)."""
    from mlops_nb.report.listing import words
    from mlops_nb.results.filter import RunFilter

    notebook = title.removeprefix("notebook ")
    return [*words(RunFilter(notebook=notebook, where="sweep == None")), "--runs-dir", "runs"]
