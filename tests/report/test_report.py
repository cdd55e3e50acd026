from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from mlops_nb.main import main
from tests.report.cdp import CHROMIUM, Browser
from tests.results.factory import make_run

XSS = "<script>alert(1)</script>"


@pytest.fixture
def store(runs_dir: Path) -> Path:
    for i, (model, c) in enumerate([("rf", 0.1), ("rf", 1.0), ("lr", 0.1), ("lr", 1.0)]):
        make_run(
            runs_dir,
            params={"model": model, "C": c, "n": i},
            scraps={"f1": 0.6 + i / 10, "loss": 1 - i / 10, XSS: "<b>bold</b>"},
            sweep_id="sweep-1",
        )
    make_run(
        runs_dir,
        params={"model": "rf", "C": 2.0, "n": 9},
        status="failed",
        sweep_id="sweep-1",
        error={
            "ename": "ValueError",
            "evalue": "<img src=x onerror=alert(2)>",
            "cell_index": 3,
            "traceback": [],
        },
    )
    make_run(
        runs_dir,
        notebook="eda.ipynb",
        params={"rows": 10},
        scraps={"mean": 1.5},
        name='"><script>alert(3)</script>',
    )
    return runs_dir


def build(store: Path, tmp_path: Path, *args: str) -> str:
    out = tmp_path / "report.html"
    assert main(["report", "--runs-dir", str(store), "-o", str(out), *args]) == 0
    return out.read_text(encoding="utf-8")


def test_report_content(store: Path, tmp_path: Path) -> None:
    page = build(store, tmp_path)
    assert page.count('<tr class="') == 6  # leaderboard rows
    assert "sorted by scraps.f1" in page
    assert page.count("<img ") >= 3  # f1 and loss against parameters, durations
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', page)
    assert "http://" not in page
    assert "https://" not in page
    assert 'id="failed"' in page
    assert "ValueError: &lt;img src=x onerror=alert(2)&gt; (cell 4)" in page
    # leaderboard: best f1 first, anchors to each run's section
    first = re.search(
        r'<tbody>\s*<tr class="ok"><td class="num">1</td><td><a href="#run-([^"]+)"', page
    )
    assert first is not None
    assert f'id="run-{first.group(1)}"' in page


def test_every_string_is_escaped(store: Path, tmp_path: Path) -> None:
    page = build(store, tmp_path)
    assert "<script" not in page
    assert "onerror=alert" not in page.replace("&lt;img src=x onerror=alert(2)&gt;", "")
    assert f"<th>scraps.{html.escape(XSS)}</th>" in page
    assert html.escape("<b>bold</b>") in page
    assert "&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in page


def test_filters_and_sort(store: Path, tmp_path: Path) -> None:
    page = build(store, tmp_path, "--notebook", "eda.ipynb")
    assert page.count('<tr class="') == 1
    page = build(store, tmp_path, "--where", "loss < 0.85", "--sort", "loss", "--asc")
    assert page.count('<tr class="') == 2
    assert "sorted by scraps.loss" in page


@pytest.mark.kernel
@pytest.mark.slow
def test_compare_template_runs_as_a_notebook(store: Path, tmp_path: Path) -> None:
    template = Path(__file__).parents[2] / "templates" / "compare.ipynb"
    out = tmp_path / "via-notebook.html"
    other = tmp_path / "report-runs"
    assert (
        main(
            [
                "run",
                str(template),
                "-r",
                "runs_dir",
                str(store),
                "-r",
                "sweep",
                "sweep-1",
                "-r",
                "report_path",
                str(out),
                "--runs-dir",
                str(other),
            ]
        )
        == 0
    )
    from mlops_nb.execution.api import Run

    run = Run.find("latest", runs_dir=other)
    assert run.record["scraps"]["n_runs"] == 5
    assert out.read_text(encoding="utf-8").count('<tr class="') == 5


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_report_renders_in_chromium(store: Path, tmp_path: Path) -> None:
    build(store, tmp_path)
    browser = Browser(tmp_path / "profile")
    try:
        page = browser.open((tmp_path / "report.html").as_uri())
        rows = browser.evaluate(page, "document.querySelectorAll('#leaderboard tbody tr').length")
        images = browser.evaluate(
            page, "Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)"
        )
        headers = browser.evaluate(
            page, "Array.from(document.querySelectorAll('#leaderboard th')).map(t => t.textContent)"
        )
        scripts = browser.evaluate(page, "document.scripts.length")
        sections = browser.evaluate(page, "document.querySelectorAll('section.run').length")
        problems = browser.problems()
    finally:
        browser.close()
    assert rows == 6
    assert len(images) >= 3
    assert all(images)
    assert f"scraps.{XSS}" in headers  # rendered as text
    assert scripts == 0
    assert sections == 6
    assert problems == []
