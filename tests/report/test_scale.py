"""The report of a large store stays one page one can open: each section shows its best runs
(and the run a registry alias points to), a capped list of failed runs, figures of a sample of
the runs (the sample's size on the figure), at most MAX_SECTIONS sections in full and
MAX_FIGURES figures; every cut says so on the page and how to narrow the report."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.registry import api as registry
from mlops_nb.report.plots import MAX_LINES, MAX_POINTS
from mlops_nb.report.views import MAX_FAILED, MAX_FIGURES, MAX_ROWS, MAX_SECTIONS
from tests.report.cdp import CHROMIUM, Browser
from tests.results.factory import make_run

N_OK = MAX_POINTS + 20  # a sample is drawn
N_FAILED = MAX_FAILED + 2
XSS = "<script>alert(7)</script>"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """MAX_SECTIONS small sweeps (the oldest named with markup), then one big sweep whose
    champion (a registry alias) ranks below the best MAX_ROWS. Returns the store and the page."""
    root = tmp_path_factory.mktemp("big")
    runs = root / "runs"
    for s in range(MAX_SECTIONS):
        for c in (1, 2):
            make_run(
                runs,
                params={"C": c},
                scraps={"f1": c / 10 + s / 100},
                sweep_id=XSS if s == 0 else f"small-{s:02d}",
            )
    folders = [
        make_run(
            runs,
            params={"C": i / 10, "model": ["rf", "lr", "svm"][i % 3], "n": i % 7},
            scraps={"f1": i / N_OK, "acc": 0.9},
            sweep_id="big",
        )
        for i in range(N_OK)
    ]
    for _ in range(N_FAILED):
        make_run(runs, params={"C": 0.0, "model": "rf", "n": 0}, status="failed", sweep_id="big")
    champion = folders[N_OK - MAX_ROWS - 3]  # ranks MAX_ROWS + 3 by f1, best first
    (champion / "model.joblib").write_bytes(b"model")
    registry.promote(runs, "clf", champion.name, ["champion"])
    out = root / "report.html"
    assert main(["report", "--runs-dir", str(runs), "-o", str(out)]) == 0
    return runs, out.read_text(encoding="utf-8")


def _section(page: str, ident: str) -> str:
    m = re.search(rf'<section class="section" id="{re.escape(ident)}">(.*?)</section>', page, re.S)
    assert m, f"no section {ident}"
    return m.group(1)


def test_a_section_shows_its_best_runs_and_the_champion(big: tuple[Path, str]) -> None:
    sec = _section(big[1], "sec-sweep-big")
    ranks = [int(r) for r in re.findall(r'<tr class="\w+"><td class="num">(\d+)</td>', sec)]
    assert ranks == [*range(1, MAX_ROWS + 1), MAX_ROWS + 3]
    assert sec.count('<details class="run"') == MAX_ROWS + 1
    hidden = N_OK + N_FAILED - MAX_ROWS - 1
    assert f"{hidden:,} more runs not shown (the best {MAX_ROWS} are, and the runs a" in sec
    assert "narrow with --where, --status, --sweep or --notebook" in sec
    values = [float(v) for v in re.findall(r'<td class="num sort">([0-9.]+)</td>', sec)]
    assert values[:MAX_ROWS] == sorted(values[:MAX_ROWS], reverse=True)
    assert f"{N_OK + N_FAILED:,} runs, {N_FAILED} failed" in sec


def test_failed_runs_are_listed_up_to_a_cap(big: tuple[Path, str]) -> None:
    sec = _section(big[1], "sec-sweep-big")
    failed = re.search(r'<ul class="failed">(.*?)</ul>(.*?)<h3>', sec, re.S)
    assert failed
    assert failed.group(1).count("<li>") == MAX_FAILED
    assert "<a href" not in failed.group(1)  # not in the leaderboard: no dead links
    assert f"{N_FAILED - MAX_FAILED} more failed runs not listed" in failed.group(2)


def test_figures_of_a_sample_say_so(big: tuple[Path, str]) -> None:
    sec = _section(big[1], "sec-sweep-big")
    captions = re.findall(r'<figure class="plot"><img alt="([^"]*)"', sec)
    assert captions == [
        f"f1: parallel coordinates of 3 parameters (a sample of {MAX_LINES} of {N_OK} runs)",
        f"f1 against C, model, n (a sample of {MAX_POINTS} of {N_OK} runs)",
    ]
    assert f"The same in all {N_OK} runs: acc = 0.9." in sec
    total = N_OK + N_FAILED + 2 * MAX_SECTIONS
    durations = _section(big[1], "durations")
    assert f"run durations (a sample of {MAX_POINTS} of {total:,} runs)" in durations


def test_at_most_max_sections_in_full_the_rest_a_line_each(big: tuple[Path, str]) -> None:
    page = big[1]
    shown = re.findall(r'<section class="section" id="sec-([^"]+)">', page)
    assert len(shown) == MAX_SECTIONS
    assert "sweep-big" in shown and "sweep-small-01" in shown
    assert "script" not in " ".join(shown)  # the oldest is the one left out
    more = _section(page, "more-sections")
    assert "<h2>1 more section</h2>" in more
    assert f"<td>sweep {html.escape(XSS)}</td>" in more and "2 runs" in more
    assert "f1 = 0.2 (run " in more  # its best run
    assert '<a href="#more-sections">1 more section</a>' in page


def test_at_most_max_figures_a_page(big: tuple[Path, str]) -> None:
    page = big[1]
    figures = re.findall(r'<figure class="plot"><img alt="([^"]*)"', page)
    assert len(figures) == MAX_FIGURES + 1  # and the durations
    assert re.search(
        rf"1 more figure not drawn \(a page draws at most {MAX_FIGURES}\); narrow with", page
    )


def test_the_large_page_stays_self_contained_and_escaped(big: tuple[Path, str]) -> None:
    page = big[1]
    assert "<script" not in page
    assert "http://" not in page and "https://" not in page
    assert "default-src 'none'; img-src data:; style-src 'unsafe-inline'" in page


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_the_large_page_renders_in_chromium(big: tuple[Path, str], tmp_path: Path) -> None:
    page_file = tmp_path / "big.html"
    page_file.write_text(big[1], encoding="utf-8")
    browser = Browser(tmp_path / "profile")
    try:
        page = browser.open(page_file.as_uri())
        rows = browser.evaluate(
            page, "document.querySelectorAll('table.leaderboard tbody tr').length"
        )
        images = browser.evaluate(
            page, "Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)"
        )
        problems = browser.problems()
    finally:
        browser.close()
    assert rows == MAX_ROWS + 1 + 2 * (MAX_SECTIONS - 1)  # the big sweep's, the small ones'
    assert len(images) == MAX_FIGURES + 1 and all(images)
    assert problems == []


def test_the_newest_sections_come_first_a_tie_goes_to_the_later(runs_dir: Path) -> None:
    from mlops_nb.report import outline
    from mlops_nb.store import query

    for sweep in ("a", "b", "c"):
        make_run(runs_dir, scraps={"f1": 0.5}, sweep_id=sweep)
    query.sync(runs_dir)
    outlines = outline.read(outline.Selection(runs_dir)).outlines
    assert [o.key for o in outlines] == ["sweep-a", "sweep-b", "sweep-c"]  # page order
    assert [o.key for o in outline.priority(outlines)] == ["sweep-c", "sweep-b", "sweep-a"]
    for o in outlines:  # the same start: page order decides, later first
        o.last_started = outlines[0].last_started
    assert [o.key for o in outline.priority(outlines)] == ["sweep-c", "sweep-b", "sweep-a"]
    outlines[0].step = ("p", "s")  # a pipeline step's section comes first
    assert [o.key for o in outline.priority(outlines)] == ["sweep-a", "sweep-c", "sweep-b"]
