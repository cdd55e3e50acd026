"""The example pipeline's report (notebooks/pipeline.yaml, run for real): the headline, a section
per step, the images the notebooks drew, and how it looks in headless Chromium.

Set MLOPS_NB_SCREENSHOT=FILE.png to keep the screenshot (the README's picture is made so).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
from pathlib import Path

import pytest

from tests.report.cdp import CHROMIUM, Browser

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example")
    project = root / "notebooks"
    shutil.copytree(REPO / "notebooks", project, ignore=shutil.ignore_patterns("runs", ".*"))
    runs = root / "runs"
    from mlops_nb.main import main

    assert main(["pipeline", "run", str(project / "pipeline.yaml"), "--runs-dir", str(runs)]) == 0
    return runs / "report.html"


def _section(page: str, ident: str) -> str:
    m = re.search(rf'<section class="[a-z]+" id="{re.escape(ident)}">(.*?)</section>', page, re.S)
    assert m, f"no section {ident}"
    return m.group(1)


def test_headline(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    m = re.search(r'<section class="headline" id="(headline-example-[^"]+)">', page)
    assert m
    head = _section(page, m.group(1))
    steps = re.findall(r'class="step ok" href="#sec-step-example-(\w+)"><b>(\w+)</b>', head)
    assert {s for _, s in steps} >= {"eda", "train", "evaluate", "shadow", "monitor"}
    assert 'class="badge in progress">in progress' in head  # the report is one of its steps
    # every step ran in this (first) invocation, the gates too (their record is gate.json)
    actions = dict(
        re.findall(
            r'<b>(\w+)</b><span class="badge \w+">\w+</span>'
            r'<span class="badge">([\w ]+)</span>',
            head,
        )
    )
    assert set(actions) >= {"eda", "train", "register", "shadow", "promote", "monitor"}
    assert set(actions.values()) == {"ran"}, actions
    best = re.search(r'<div class="card best">(.*?)</div>', head, re.S)
    assert best and "model=" in best.group(1) and "class_weight=" in best.group(1)
    assert "by f1" in best.group(1)  # the sweep step's detail: best of 4 runs by f1 (max)
    baseline = re.search(r'<div class="card baseline">(.*?)</div>', head, re.S)
    assert baseline and "<td>evaluate</td><td>f1</td>" in baseline.group(1)
    # the loop's monitor step watches the batch the live model serves: no drift on the first run
    # (the README's step 2, a drifted batch, raises it; tests/pipeline/test_example.py)
    assert re.search(r'<div class="card (alarm|calm) drift"><h3>Drift( alarm)?</h3>', head)
    # the deployment state: the loop's first run promoted v1 to champion and live (issue 15)
    registry = re.search(
        r'<div class="card registry"><h3>Model registry</h3>(.*?)</div>', head, re.S
    )
    assert registry and "<b>rare_events</b>: " in registry.group(1)
    assert 'champion v1 (run <a href="#run-' in registry.group(1)
    assert "live v1" in registry.group(1) and "promote" in registry.group(1)


def test_a_section_per_step(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    train = _section(page, "sec-step-example-train")
    assert train.count('<tr class="ok">') == 4
    assert re.search(r'<th class="sort">f1 ▼</th>', train)
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", train)
    for metric in ("f1", "precision", "recall", "pr_auc"):
        assert f"{metric} against class_weight, model" in captions
    same = re.search(r"The same in all 4 runs: ([^<]*)\.</p>", train)
    assert same and "baseline_f1 = 0" in same.group(1).split(", ")
    for step in ("eda", "evaluate", "monitor"):
        sec = _section(page, f"sec-step-example-{step}")
        assert "<h3>Images</h3>" in sec
        assert re.search(r'<figure><img alt="cell \d+" src="data:image/png;base64,', sec)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    return w, h


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_screenshot(report: Path, tmp_path: Path) -> None:
    browser = Browser(tmp_path / "profile")
    try:
        page = browser.open(report.as_uri())
        shot = browser.screenshot(page)
        headline = browser.evaluate(
            page,
            "(() => { const r = document.querySelector('section.headline')"
            ".getBoundingClientRect(); return [r.top, r.height]; })()",
        )
        cards = browser.evaluate(
            page,
            "Array.from(document.querySelectorAll('section.headline .card'))"
            ".map(c => c.getBoundingClientRect().top < innerHeight && c.offsetHeight > 0)",
        )
        images = browser.evaluate(
            page, "Array.from(document.images).map(i => i.complete && i.naturalWidth > 10)"
        )
        plots = browser.evaluate(page, "document.querySelectorAll('figure.plot img').length")
        scripts = browser.evaluate(page, "document.scripts.length")
        problems = browser.problems()
    finally:
        browser.close()
    if os.environ.get("MLOPS_NB_SCREENSHOT"):
        Path(os.environ["MLOPS_NB_SCREENSHOT"]).write_bytes(shot)
    assert _png_size(shot) == (1280, 1000)
    assert len(shot) > 50_000  # a drawn page, not a blank one
    top, height = headline
    assert 0 < top < 400 and height > 200  # the headline is what one sees first
    assert cards == [True] * 4  # best model, baseline, drift, registry: above the fold
    assert plots >= 7
    assert all(images)
    assert scripts == 0
    assert problems == []
