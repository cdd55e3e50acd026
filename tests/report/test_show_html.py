"""`show RUN --html [--no-input]`: one run's output notebook as an offline HTML page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_nb.main import main
from tests.results.factory import make_run


@pytest.fixture
def run(runs_dir: Path) -> Path:
    return make_run(
        runs_dir, params={"alpha": 0.5}, scraps={"f1": 0.9}, code="secret_code = alpha * 2"
    )


def _page(run: Path, tmp_path: Path, *flags: str) -> str:
    out = tmp_path / "page.html"
    args = ["show", run.name, "--runs-dir", str(run.parent), "--html", "-o", str(out), *flags]
    assert main(args) == 0
    return out.read_text(encoding="utf-8")


def _offline(page: str) -> None:
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    assert "default-src 'none'" in page


def test_show_html_renders_the_output_notebook(run: Path, tmp_path: Path) -> None:
    page = _page(run, tmp_path)
    assert "secret_code" in page
    assert "alpha" in page
    _offline(page)


def test_no_input_hides_the_code(run: Path, tmp_path: Path) -> None:
    page = _page(run, tmp_path, "--no-input")
    assert "secret_code" not in page
    assert 'class="jp-InputArea' not in page
    _offline(page)


def test_html_to_stdout_and_flag_mistakes(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", run.name, "--runs-dir", str(run.parent), "--html", "-o", "-"]) == 0
    assert "secret_code" in capsys.readouterr().out
    assert main(["show", run.name, "--runs-dir", str(run.parent), "--no-input"]) == 2
    assert "go with --html" in capsys.readouterr().err
