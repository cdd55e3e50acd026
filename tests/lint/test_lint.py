"""Lint: golden files (notebook -> expected findings), the command line, and configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.commands.hook import lint_main
from mlops_nb.lint import RULES, LintOptions, lint_notebook, lint_paths
from mlops_nb.main import main
from tests import nbbuild as b

GOLDEN = Path(__file__).parents[1] / "golden" / "lint"
CASES = sorted(p.stem for p in GOLDEN.glob("*.ipynb"))


@pytest.mark.parametrize("case", CASES)
def test_golden_findings(case: str) -> None:
    path = GOLDEN / f"{case}.ipynb"
    report = lint_paths([path])
    got = [f.format().replace(str(path), path.name) for f in [*report.unreadable, *report.findings]]
    expected = (GOLDEN / f"{case}.expected.txt").read_text(encoding="utf-8").splitlines()
    assert got == expected


def test_every_rule_has_a_golden_case() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in GOLDEN.glob("*.expected.txt"))
    assert [code for code in RULES if f" {code} " not in text] == []
    assert " NB000 " in text


def _nb(tmp_path: Path, name: str, *cells: dict[str, object]) -> Path:
    return b.write(tmp_path / name, *cells)


def test_exit_codes_and_unreadable_files_do_not_stop_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = _nb(tmp_path, "clean.ipynb", b.params("a = 1"), b.code("print(a)"))
    assert main(["lint", str(clean)]) == 0
    bad = _nb(tmp_path, "bad.ipynb", b.params("a = 1", count=2), b.code("b = 1", count=1))
    assert main(["lint", str(clean), str(bad)]) == 1
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{", encoding="utf-8")
    capsys.readouterr()
    assert main(["lint", str(broken), str(bad)]) == 2
    out, err = capsys.readouterr()
    assert f"{bad}:cell 1: NB101 " in out  # the readable file was still checked
    assert f"{broken}: NB000 not a valid notebook: invalid JSON" in err
    assert len(err.strip().splitlines()) == 2  # one line for the broken file, one summary


def test_missing_file_is_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lint_main([str(tmp_path / "nope.ipynb")]) == 2
    assert "no such notebook file" in capsys.readouterr().err


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _nb(tmp_path, "bad.ipynb", b.params("a = 1", count=2), b.code("b = 1", count=1))
    (tmp_path / "broken.ipynb").write_text("[]", encoding="utf-8")
    assert main(["lint", "--format", "json", str(tmp_path)]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data[0] == {
        "path": str(tmp_path / "broken.ipynb"),
        "cell": None,
        "code": "NB000",
        "message": "not a valid notebook: the top level is not a JSON object.",
        "cell_id": None,
    }
    assert data[1]["path"] == str(bad)
    assert (data[1]["cell"], data[1]["code"], data[1]["cell_id"]) == (1, "NB101", "cell-0")
    assert "Restart & Run All" in data[1]["message"]


def test_folders_skip_checkpoints_and_hidden_dirs(tmp_path: Path) -> None:
    _nb(tmp_path, "a.ipynb", b.params("a = 1"))
    _nb(tmp_path, "sub/b.ipynb", b.params("a = 1"))
    _nb(tmp_path, ".ipynb_checkpoints/a-checkpoint.ipynb", b.code("x", count=9))
    _nb(tmp_path, "sub/.ipynb_checkpoints/b-checkpoint.ipynb", b.code("x", count=9))
    (tmp_path / "notes.txt").write_text("not a notebook", encoding="utf-8")
    report = lint_paths([tmp_path])
    assert (report.checked, report.findings, report.exit_code) == (2, [], 0)


def test_select_and_ignore_on_the_command_line(tmp_path: Path) -> None:
    nb = _nb(tmp_path, "x.ipynb", b.code("def f():\n    pass\n", count=3))
    codes = {f.code for f in lint_paths([nb]).findings}
    assert codes == {"NB101", "NB201", "NB302"}
    assert {f.code for f in lint_paths([nb], select=["NB1"]).findings} == {"NB101"}
    assert {f.code for f in lint_paths([nb], ignore=["NB201,NB302"]).findings} == {"NB101"}
    assert {f.code for f in lint_paths([nb], select=["NB"], ignore=["NB1"]).findings} == {
        "NB201",
        "NB302",
    }


def test_unknown_code_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nb = _nb(tmp_path, "x.ipynb", b.params("a = 1"))
    assert main(["lint", "--select", "NB999", str(nb)]) == 2
    err = capsys.readouterr().err
    assert "unknown rule code 'NB999'" in err
    assert "NB101" in err


def test_config_is_found_by_walking_up(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.mlops-nb.lint]\nignore = ["NB302"]\nmax-cell-lines = 2\n',
        encoding="utf-8",
    )
    nb = _nb(tmp_path, "deep/er/x.ipynb", b.params("a = 1"), b.code("def f():\n    pass\nx = 1\n"))
    assert [f.code for f in lint_paths([nb]).findings] == ["NB301"]
    # A nearer pyproject.toml without [tool.mlops-nb] does not hide the one above it.
    (tmp_path / "deep" / "pyproject.toml").write_text('[project]\nname = "y"\n', encoding="utf-8")
    assert [f.code for f in lint_paths([nb]).findings] == ["NB301"]
    # The command line adds to the configuration.
    assert lint_paths([nb], ignore=["NB301"]).findings == []


def test_max_output_bytes_setting(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mlops-nb.lint]\nmax-output-bytes = "1k"\n', encoding="utf-8"
    )
    out = [{"output_type": "stream", "name": "stdout", "text": "x" * 1500}]
    nb = _nb(tmp_path, "x.ipynb", b.params("a = 1", count=1, outputs=out))
    assert [f.code for f in lint_paths([nb]).findings] == ["NB401"]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[tool.mlops-nb.lint]\nmax-lines = 3\n", "unknown setting(s) max-lines"),
        ("[tool.mlops-nb.lint]\nmax-cell-lines = 0\n", "positive whole number"),
        ('[tool.mlops-nb.lint]\nselect = ["XX1"]\n', "unknown rule code 'XX1'"),
        ('[tool.mlops-nb.lint]\nmax-output-bytes = "big"\n', "is not a size"),
        ("[tool.mlops-nb.lint\n", "invalid TOML"),
    ],
    ids=["unknown-key", "bad-number", "bad-code", "bad-size", "bad-toml"],
)
def test_bad_config_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, expected: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(toml, encoding="utf-8")
    nb = _nb(tmp_path, "x.ipynb", b.params("a = 1"))
    assert main(["lint", str(nb)]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert str(tmp_path / "pyproject.toml") in err
    assert "Traceback" not in err


def test_lint_never_crashes_on_malformed_fields() -> None:
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": [],
        "cells": [
            {
                "cell_type": "code",
                "source": ["a = 1", 3],
                "metadata": "x",
                "outputs": "y",
                "execution_count": "1",
            },
            {
                "cell_type": "code",
                "source": "b",
                "metadata": {"tags": "parameters"},
                "outputs": [1, {"output_type": "error"}],
                "execution_count": True,
            },
            {"cell_type": "markdown", "source": "", "id": 5},
        ],
    }
    codes = [f.code for f in lint_notebook(nb, options=LintOptions(max_output_bytes=1))]
    assert codes == ["NB201", "NB501", "NB103", "NB401"]


def test_help_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["lint", "--help"])
    out = capsys.readouterr().out
    assert [code for code in RULES if code not in out] == []
