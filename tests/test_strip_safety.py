"""Stripping never erases lint's evidence, never removes what run and lint need, writes through
symbolic links, and reads the older nbformat versions Jupyter, papermill and nbstripout read."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.commands.hook import hook_main, strip_main
from mlops_nb.lint.evidence import introduced
from mlops_nb.main import main
from mlops_nb.notebook.io import atomic_write_text, cell_lists, read_json
from tests import nbbuild as b

OUT = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
ERR = [{"output_type": "error", "ename": "ValueError", "evalue": "x", "traceback": []}]

# Notebooks lint rejects for how they were run: the evidence is in counts and outputs.
EVIDENCE: dict[str, tuple[list[dict[str, Any]], str]] = {
    "out-of-order-1-3-2": (
        [
            b.params("a = 1", count=1),
            b.code("b = 2", count=3),
            b.code("c = 3", count=2, outputs=OUT),
        ],
        "NB101",
    ),
    "not-restarted": ([b.params("a = 1", count=4), b.code("b = 2", count=5)], "NB101"),
    "rerun-gap": ([b.params("a = 1", count=1), b.code("b = 2", count=3)], "NB101"),
    "skipped-cell": ([b.params("a = 1", count=1), b.code("b = 2"), b.code("c", count=2)], "NB102"),
    "error-output": ([b.params("a = 1", count=1), b.code("f()", count=2, outputs=ERR)], "NB103"),
}


def _cells(path: Path) -> list[dict[str, Any]]:
    return [c for cells in cell_lists(json.loads(path.read_text("utf-8"))) for c in cells]


@pytest.mark.parametrize("case", sorted(EVIDENCE))
@pytest.mark.parametrize("entry", ["strip", "strip --check", "mlops-nb-strip", "mlops-nb-hook"])
def test_notebook_lint_rejects_for_its_execution_is_never_stripped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, entry: str
) -> None:
    cells, code = EVIDENCE[case]
    nb = b.write(tmp_path / "nb.ipynb", *cells)
    before = nb.read_bytes()
    if entry.startswith("strip"):
        rc = main([*entry.split(), str(nb)])
    else:
        rc = (strip_main if entry == "mlops-nb-strip" else hook_main)([str(nb)])
    assert rc == 1
    assert nb.read_bytes() == before  # the evidence stays for lint, on every later commit
    out, err = capsys.readouterr()
    assert f"{nb}:cell " in out and f": {code} " in out
    assert "not stripped" in err


def test_evidence_rules_the_project_turned_off_do_not_stop_stripping(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.mlops-nb.lint]\nignore = ['NB1']\n", "utf-8")
    nb = b.write(tmp_path / "nb.ipynb", *EVIDENCE["out-of-order-1-3-2"][0])
    assert strip_main([str(nb)]) == 1
    assert [c["execution_count"] for c in _cells(nb)] == [None, None, None]
    assert strip_main([str(nb)]) == 0


def test_only_the_bad_notebook_is_kept_the_others_are_stripped(tmp_path: Path) -> None:
    bad = b.write(tmp_path / "a.ipynb", *EVIDENCE["rerun-gap"][0])
    good = b.write(tmp_path / "b.ipynb", b.params("a = 1", count=1, outputs=OUT))
    assert main(["strip", str(tmp_path)]) == 1
    assert _cells(bad)[1]["execution_count"] == 3
    assert _cells(good)[0]["outputs"] == []


# --- options that would remove what run and lint need ----------------------------------------


def _settings(folder: Path, text: str) -> None:
    (folder / "pyproject.toml").write_text(f"[tool.mlops-nb.strip]\n{text}\n", encoding="utf-8")


@pytest.mark.parametrize("entry", [strip_main, hook_main])
def test_drop_empty_cells_keeps_an_empty_parameters_cell(tmp_path: Path, entry: Any) -> None:
    _settings(tmp_path, "drop-empty-cells = true")
    nb = b.write(
        tmp_path / "nb.ipynb",
        b.params("", id="p"),
        b.code("", count=None, id="empty"),
        b.code("print(1)", count=1, id="c", outputs=OUT),
    )
    assert entry([str(nb)]) == 1
    cells = _cells(nb)
    assert [(c["id"], c["metadata"].get("tags")) for c in cells] == [
        ("p", ["parameters"]),
        ("c", None),
    ]
    assert entry([str(nb)]) == 0  # its own output passes: no NB201 on the second commit
    assert main(["lint", str(nb)]) == 0


def test_drop_tagged_cells_keeps_a_parameters_cell_with_that_tag(tmp_path: Path) -> None:
    _settings(tmp_path, 'drop-tagged-cells = ["scratch"]')
    nb = b.write(
        tmp_path / "nb.ipynb",
        b.code("a = 1", tags=["parameters", "scratch"], id="p"),
        b.code("junk()", tags=["scratch"], id="s"),
        b.code("print(a)", id="c"),
    )
    assert strip_main([str(nb)]) == 1
    assert [c["id"] for c in _cells(nb)] == ["p", "c"]


@pytest.mark.parametrize(
    "setting",
    [
        'drop-tagged-cells = ["parameters"]',
        'extra-keys = ["metadata.kernelspec"]',
        'extra-keys = ["cell.metadata"]',
        'extra-keys = ["cell.id"]',
    ],
)
def test_settings_that_remove_what_run_needs_are_refused_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str
) -> None:
    _settings(tmp_path, setting)
    nb = b.write(tmp_path / "nb.ipynb", b.params("a = 1", count=1, outputs=OUT))
    before = nb.read_bytes()
    assert strip_main([str(nb)]) == 2
    assert hook_main([str(nb)]) == 2
    assert nb.read_bytes() == before
    err = capsys.readouterr().err
    assert "[tool.mlops-nb.strip]" in err and "Remove" in err
    assert "Traceback" not in err


def test_a_strip_that_would_create_a_lint_finding_is_named() -> None:
    nb = b.notebook(b.params("a = 1"), b.code("print(a)"))
    without = b.notebook(b.code("print(a)"))
    assert [f.code for f in introduced(nb, without, path="x")] == ["NB201"]
    assert introduced(without, without, path="x") == []


# --- symbolic links ---------------------------------------------------------------------------


def test_strip_writes_through_a_symlink_and_keeps_the_link(tmp_path: Path) -> None:
    real = b.write(tmp_path / "examples" / "nb.ipynb", b.params("a = 1", count=1, outputs=OUT))
    (tmp_path / "docs").mkdir()
    link = tmp_path / "docs" / "nb.ipynb"
    link.symlink_to(Path("..") / "examples" / "nb.ipynb")
    real.chmod(0o640)
    assert main(["strip", str(tmp_path / "docs")]) == 1
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "examples", "nb.ipynb")
    assert _cells(real)[0]["outputs"] == [] and _cells(real)[0]["execution_count"] is None
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["nb.ipynb"]  # no temp files
    assert main(["strip", "--check", str(tmp_path / "docs"), str(real)]) == 0


def test_linked_folders_are_followed_once_without_looping(tmp_path: Path) -> None:
    real = b.write(tmp_path / "examples" / "nb.ipynb", b.params("a = 1", count=1, outputs=OUT))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "examples").symlink_to(Path("..") / "examples")
    (tmp_path / "examples" / "loop").symlink_to(Path(".."))  # a cycle
    assert main(["strip", str(tmp_path / "docs")]) == 1
    assert _cells(real)[0]["outputs"] == []
    assert (tmp_path / "docs" / "examples").is_symlink()


def test_a_file_named_through_its_link_and_itself_is_processed_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = b.write(tmp_path / "nb.ipynb", b.params("a = 1", count=1, outputs=OUT))
    (tmp_path / "link.ipynb").symlink_to("nb.ipynb")
    assert hook_main([str(tmp_path / "link.ipynb"), str(real)]) == 1
    assert capsys.readouterr().out.count("stripped") == 1
    assert (tmp_path / "link.ipynb").is_symlink()


def test_a_hard_linked_notebook_is_stripped_under_every_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = b.write(tmp_path / "examples" / "nb.ipynb", b.params("a = 1", count=1, outputs=OUT))
    (tmp_path / "docs").mkdir()
    os.link(real, tmp_path / "docs" / "nb.ipynb")
    assert main(["strip", str(tmp_path / "docs"), str(tmp_path / "examples")]) == 1
    assert capsys.readouterr().out.count("stripped") == 1  # one file, two names
    assert os.path.samefile(real, tmp_path / "docs" / "nb.ipynb")
    assert _cells(real)[0]["outputs"] == []
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["nb.ipynb"]


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_every_atomic_write_goes_through_links(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "target.html"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.html"
    if kind == "symlink":
        link.symlink_to(target)
    else:
        os.link(target, link)
    atomic_write_text(link, "new")
    assert link.is_symlink() == (kind == "symlink")
    assert target.read_text(encoding="utf-8") == "new"
    assert link.read_text(encoding="utf-8") == "new"


# --- older nbformat versions ------------------------------------------------------------------


def _v3(*cells: dict[str, Any], version: int = 3) -> dict[str, Any]:
    md = {"name": "", "kernelspec": b.notebook()["metadata"]["kernelspec"]}
    return {
        "metadata": md,
        "nbformat": version,
        "nbformat_minor": 0,
        "worksheets": [{"cells": list(cells), "metadata": {}}],
    }


def _code3(src: str, count: int | None, *, tags: list[str] | None = None) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "collapsed": False,
        "input": src,
        "language": "python",
        "metadata": {"tags": tags} if tags else {},
        "outputs": [{"output_type": "stream", "stream": "stdout", "text": "x\n"}] if count else [],
        "prompt_number": count,
    }


def test_nbformat_3_is_linted_upgraded_and_stripped_in_its_own_version(tmp_path: Path) -> None:
    path = tmp_path / "old.ipynb"
    path.write_text(
        json.dumps(_v3(_code3("a = 1", 1, tags=["parameters"]), _code3("print(a)", 2))), "utf-8"
    )
    assert main(["lint", str(path)]) == 0
    nb4 = read_json(path)
    assert nb4["nbformat"] == 4 and [c["source"] for c in nb4["cells"]] == ["a = 1", "print(a)"]
    assert main(["inspect", str(path)]) == 0
    saved = path.read_bytes()
    assert hook_main([str(path)]) == 1  # the combined hook strips it in its own version too
    assert path.read_text("utf-8") != saved.decode()
    path.write_bytes(saved)
    assert strip_main([str(path)]) == 1
    stripped = json.loads(path.read_text("utf-8"))
    assert stripped["nbformat"] == 3
    assert [c["prompt_number"] for c in _cells(path)] == [None, None]
    assert _cells(path)[0]["metadata"]["tags"] == ["parameters"]
    assert strip_main([str(path)]) == 0


def test_nbformat_3_run_out_of_order_is_not_stripped(tmp_path: Path) -> None:
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(_v3(_code3("a = 1", 2), _code3("b = 1", 1))), "utf-8")
    before = path.read_bytes()
    assert main(["lint", str(path)]) == 1
    assert main(["strip", str(path)]) == 1
    assert path.read_bytes() == before


def test_nbformat_written_as_4_point_0_is_nbformat_4(tmp_path: Path) -> None:
    nb = b.notebook(b.params("a = 1", count=1, outputs=OUT))
    path = tmp_path / "float.ipynb"
    path.write_text(json.dumps({**nb, "nbformat": 4.0}), "utf-8")
    assert main(["lint", str(path)]) == 0
    assert strip_main([str(path)]) == 1
    assert _cells(path)[0]["outputs"] == []


def test_a_notebook_without_nbformat_key_keeps_its_sources(tmp_path: Path) -> None:
    nb = b.notebook(b.params("a = 1", count=1, outputs=OUT), b.code("print(a)", count=2))
    del nb["nbformat"], nb["nbformat_minor"]
    path = tmp_path / "nokey.ipynb"
    path.write_text(json.dumps(nb), "utf-8")
    assert [c["source"] for c in read_json(path)["cells"]] == ["a = 1", "print(a)"]
    assert main(["lint", str(path)]) == 0
    assert hook_main([str(path)]) == 1
    assert [c["source"] for c in _cells(path)] == [["a = 1"], ["print(a)"]]
    assert [c["outputs"] for c in _cells(path)] == [[], []]


def test_nbformat_1_is_read_and_its_strip_names_the_upgrade_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "v1.ipynb"
    cells = [{"cell_type": "code", "code": "a = 1", "prompt_number": 1, "outputs": []}]
    path.write_text(json.dumps({"nbformat": 1, "cells": cells}), "utf-8")
    assert [c["source"] for c in read_json(path)["cells"]] == ["a = 1"]
    before = path.read_bytes()
    assert strip_main([str(path)]) == 2
    assert path.read_bytes() == before
    assert "jupyter nbconvert --to notebook --inplace" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"nbformat": 5, "cells": []}', "nbformat 5 is not supported"),
        ('{"nbformat": "4", "cells": []}', "nbformat '4' is not supported"),
        ('{"nbformat": 3, "worksheets": {}}', "no 'worksheets' list"),
    ],
)
def test_unsupported_versions_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "x.ipynb"
    path.write_text(text, "utf-8")
    for argv in (["lint", str(path)], ["strip", str(path)], ["hook", str(path)]):
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.kernel
def test_an_nbformat_3_notebook_runs(tmp_path: Path, runs_dir: Path) -> None:
    path = tmp_path / "old.ipynb"
    path.write_text(
        json.dumps(_v3(_code3("a = 1", None, tags=["parameters"]), _code3("print(a * 2)", None))),
        "utf-8",
    )
    assert main(["run", str(path), "-p", "a", "21", "--runs-dir", str(runs_dir)]) == 0
    (record,) = runs_dir.glob("*/run.json")
    data = json.loads(record.read_text("utf-8"))
    assert data["status"] == "ok" and data["params"] == {"a": 21}
