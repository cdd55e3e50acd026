from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.report import model
from mlops_nb.report.plots import MISSING, NONE, axis_values, varying
from tests.report.cdp import CHROMIUM, Browser
from tests.report.test_rows import rows_of
from tests.results.factory import make_run

XSS = "<script>alert(1)</script>"
# a 1x1 PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def store(runs_dir: Path) -> Path:
    for i, (model_, c) in enumerate([("rf", 0.1), ("rf", 1.0), ("lr", 0.1), ("lr", 1.0)]):
        make_run(
            runs_dir,
            params={"model": model_, "C": c, "n": i},
            scraps={"f1": 0.6 + i / 10, "loss": 1 - i / 10, "baseline": 0.5, XSS: "<b>bold</b>"},
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
            "traceback": ["Traceback <b>here</b>", "ValueError: <img src=x onerror=alert(2)>"],
        },
    )
    eda = make_run(
        runs_dir,
        notebook="eda.ipynb",
        params={"rows": 10, "label": "<svg onload=alert(5)>"},
        scraps={"mean": 1.5},
        name='"><script>alert(3)</script>',
    )
    _add_images(eda)
    return runs_dir


def _add_images(folder: Path) -> None:
    """An image artifact and a figure output, plus a hostile 'image' that must not be embedded."""
    import json

    (folder / "plots").mkdir()
    (folder / "plots" / "confusion.png").write_bytes(PNG)
    rec = json.loads((folder / "run.json").read_text())
    rec["artifacts"] = {"plots/confusion.png": {"sha256": "x", "size": len(PNG)}}
    (folder / "run.json").write_text(json.dumps(rec))
    nb = json.loads((folder / "output.ipynb").read_text())
    nb["cells"][-1]["outputs"] += [
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"image/png": base64.b64encode(PNG).decode()},
        },
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"image/png": '" onerror="alert(4)'},
        },
    ]
    (folder / "output.ipynb").write_text(json.dumps(nb))


@pytest.fixture
def none_sweep(runs_dir: Path) -> Path:
    """A sweep over max_depth in [None, 3, 5] (and one run without the parameter at all),
    with three varying parameters and a metric that never changes."""
    values = [(None, "gini", 0.1), (3, "gini", 0.5), (5, "entropy", 0.1), (None, "entropy", 0.5)]
    for i, (depth, crit, lr) in enumerate(values):
        make_run(
            runs_dir,
            notebook="tree.ipynb",
            params={"max_depth": depth, "criterion": crit, "lr": lr},
            scraps={"f1": 0.7 + i / 20, "n_test": 324},
            sweep_id="sweep-none",
        )
    make_run(
        runs_dir,
        notebook="tree.ipynb",
        params={"criterion": "gini", "lr": 0.1},
        scraps={"f1": 0.5, "n_test": 324},
        sweep_id="sweep-none",
    )
    return runs_dir


def build(store: Path, tmp_path: Path, *args: str) -> str:
    out = tmp_path / "report.html"
    assert main(["report", "--runs-dir", str(store), "-o", str(out), *args]) == 0
    return out.read_text(encoding="utf-8")


def _section(page: str, key: str) -> str:
    m = re.search(
        rf'<section class="section" id="sec-{re.escape(key)}">(.*?)</section>', page, re.S
    )
    assert m, f"no section {key}"
    return m.group(1)


def test_one_section_per_sweep_or_notebook_each_with_its_own_leaderboard(
    store: Path, tmp_path: Path
) -> None:
    page = build(store, tmp_path)
    sweep, eda = _section(page, "sweep-sweep-1"), _section(page, "notebook-eda.ipynb")
    assert sweep.count('<tr class="') == 5
    assert eda.count('<tr class="') == 1
    # only its columns: the eda section has no f1, the sweep no 'mean'
    # (column headers and row labels: run ids are random hex, "f1" may be in one)
    assert ">mean ▼</th>" in eda and not re.search(r">(scraps\.)?f1\b", eda)
    assert not re.search(r">(scraps\.)?mean\b", sweep)
    # the sort metric is the first column after the run, marked, best first
    head = re.search(r"<thead><tr><th>#</th><th>run</th><th class=\"sort\">([^<]*)</th>", sweep)
    assert head and head.group(1).startswith("f1")
    first = re.search(
        r'<tbody>\s*<tr class="ok"><td class="num">1</td><td><a href="#run-([^"]+)"', sweep
    )
    assert first is not None
    assert f'id="run-{first.group(1)}"' in page
    values = [float(v) for v in re.findall(r'<td class="num sort">([0-9.]+)</td>', sweep)]
    assert values == sorted(values, reverse=True)
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', page)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page
    assert "default-src 'none'; img-src data:; style-src 'unsafe-inline'" in page


def test_plots_every_numeric_scrap_and_summarises_constants(store: Path, tmp_path: Path) -> None:
    sweep = _section(build(store, tmp_path), "sweep-sweep-1")
    titles = re.findall(r"<figcaption>([^<]*)</figcaption>", sweep)
    assert "f1 against C, model, n" in titles
    assert "loss against C, model, n" in titles
    assert any("parallel coordinates of 3 parameters" in t for t in titles)
    assert not any(t.startswith("baseline") for t in titles)
    assert "The same in all 4 runs: baseline = 0.5." in sweep


def test_metrics_named_first(store: Path, tmp_path: Path) -> None:
    sweep = _section(build(store, tmp_path, "--metrics", "loss"), "sweep-sweep-1")
    titles = [t for t in re.findall(r"<figcaption>([^<]*)</figcaption>", sweep) if "against" in t]
    assert titles[0].startswith("loss against")


def test_failed_runs_with_their_error(store: Path, tmp_path: Path) -> None:
    sweep = _section(build(store, tmp_path), "sweep-sweep-1")
    failed = re.search(r'<ul class="failed">(.*?)</ul>', sweep, re.S)
    assert failed
    # cell_index 3 is the 4th cell: cells are numbered from 1 in every message
    assert "ValueError: &lt;img src=x onerror=alert(2)&gt; (cell 4)" in failed.group(1)
    assert "Traceback &lt;b&gt;here&lt;/b&gt;" in failed.group(1)


def test_images_the_runs_saved_are_embedded(store: Path, tmp_path: Path) -> None:
    eda = _section(build(store, tmp_path), "notebook-eda.ipynb")
    images = re.findall(r'<figure><img alt="([^"]*)" src="([^"]*)">', eda)
    assert [alt for alt, _ in images] == ["plots/confusion.png", "cell 2"]
    assert all(
        src == "data:image/png;base64," + base64.b64encode(PNG).decode() for _, src in images
    )
    assert "alert(4)" not in eda


def test_every_string_is_escaped(store: Path, tmp_path: Path) -> None:
    page = build(store, tmp_path)
    assert "<script" not in page
    assert "onerror=alert" not in page.replace("&lt;img src=x onerror=alert(2)&gt;", "")
    assert f"<th>{html.escape(XSS)}</th>" in page
    assert html.escape("<b>bold</b>") in page
    assert "&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in page
    assert "<svg" not in page
    assert "&lt;svg onload=alert(5)&gt;" in page


def test_headline_of_a_pipeline_invocation_is_escaped_too(runs_dir: Path, tmp_path: Path) -> None:
    import json

    step = "<b>st</b>"
    meta = {"name": "p", "file": "nowhere.yaml", "run_id": "inv-1", "step": step, "upstream": {}}
    folder = make_run(
        runs_dir,
        params={"x": "<i>x</i>"},
        scraps={
            "f1": 0.8,
            "baseline_f1": 0.1,
            "drift_detected": True,
            "drifted_features": "<script>alert(6)</script>",
        },
        pipeline=meta,
    )
    record = {
        "id": "inv-1",
        "pipeline": "p",
        "file": "nowhere.yaml",
        "finished_at": "2026-01-01T00:00:00Z",
        "ok": True,
        "steps": {
            step: {"action": "ran", "status": "ok", "run_id": folder.name, "detail": "<i>d</i>"}
        },
    }
    (runs_dir / "pipelines" / "p" / "runs").mkdir(parents=True)
    (runs_dir / "pipelines" / "p" / "runs" / "inv-1.json").write_text(json.dumps(record))
    page = build(runs_dir, tmp_path)
    head = re.search(r'<section class="headline" id="headline-p-inv-1">(.*?)</section>', page, re.S)
    assert head
    assert "<b>st" not in page and "<script" not in page and "<i>" not in page
    assert "&lt;b&gt;st&lt;/b&gt;" in head.group(1)
    assert "Drift alarm" in head.group(1)
    assert "&lt;script&gt;alert(6)&lt;/script&gt;" in head.group(1)
    assert "<td>f1</td><td class='num'><b>0.8</b></td><td class='num'>0.1</td>" in head.group(1)


def test_filters_and_sort(store: Path, tmp_path: Path) -> None:
    page = build(store, tmp_path, "--notebook", "eda.ipynb")
    assert page.count('<tr class="') == 1
    page = build(store, tmp_path, "--where", "loss < 0.85", "--sort", "loss", "--asc")
    assert page.count('<tr class="') == 2
    assert "best first by loss" in page
    out = tmp_path / "r.html"
    assert main(["report", "--runs-dir", str(store), "-o", str(out), "--sort", "nope"]) == 2


def test_none_is_a_category_of_its_own(none_sweep: Path, tmp_path: Path) -> None:
    df = rows_of(none_sweep)
    values, order = axis_values(df, "params.max_depth")
    assert order == [NONE, "3", "5", MISSING]
    assert values == [NONE, "3", "5", NONE, MISSING]
    assert set(varying(df)) == {"params.max_depth", "params.criterion", "params.lr"}
    sec = _section(build(none_sweep, tmp_path), "sweep-sweep-none")
    assert "f1 against criterion, lr, max_depth" in sec
    assert "parallel coordinates of 3 parameters" in sec
    assert "The same in all 5 runs: n_test = 324." in sec
    # the leaderboard tells None from absent
    cells = re.findall(r"<td>(None|)</td>", sec.split("<h3>")[0])
    assert cells.count("None") == 2


def test_sections_follow_pipeline_steps(runs_dir: Path) -> None:
    pipe = {"name": "p", "run_id": "inv-1", "step": "train", "upstream": {}}
    a = make_run(runs_dir, params={"C": 1}, scraps={"f1": 0.5}, pipeline=pipe, sweep_id="s")
    make_run(runs_dir, params={"C": 2}, scraps={"f1": 0.7}, pipeline=pipe, sweep_id="s")
    df = rows_of(runs_dir)
    recs = model.records(runs_dir, df["id"])
    (sec,) = model.sections(df, recs, sort=None, ascending=False, selects={"step-p-train": "f1"})
    assert sec.step == ("p", "train")
    assert sec.sort == "scraps.f1"
    assert sec.df["id"][-1] == a.name


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
        rows = browser.evaluate(
            page, "document.querySelectorAll('table.leaderboard tbody tr').length"
        )
        images = browser.evaluate(
            page, "Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)"
        )
        headers = browser.evaluate(
            page,
            "Array.from(document.querySelectorAll('table.leaderboard th')).map(t => t.textContent)",
        )
        scripts = browser.evaluate(page, "document.scripts.length")
        runs = browser.evaluate(page, "document.querySelectorAll('details.run').length")
        problems = browser.problems()
    finally:
        browser.close()
    assert rows == 6
    assert len(images) >= 5
    assert all(images)
    assert XSS in headers  # rendered as text
    assert scripts == 0
    assert runs == 6
    assert problems == []


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_the_console_check_sees_errors_logged_after_the_load(tmp_path: Path) -> None:
    """The browser checks above can fail: a page that logs an error after its load is caught."""
    page = tmp_path / "late.html"
    page.write_text(
        "<!DOCTYPE html><title>late</title>"
        "<script>setTimeout(() => console.error('late'), 150)</script>",
        encoding="utf-8",
    )
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(page.as_uri())
        problems = browser.problems()
    finally:
        browser.close()
    assert [p["params"]["type"] for p in problems] == ["error"]


@pytest.mark.parametrize("sort", ["model", "name", "status"])
def test_a_sweep_over_three_parameters_sorted_by_text(
    runs_dir: Path, tmp_path: Path, sort: str
) -> None:
    """Its parallel coordinates are coloured by its metric, not by the text column it is sorted
    by (that was a crash: 'could not convert string to float')."""
    for i in range(4):
        make_run(
            runs_dir,
            params={"C": i, "n": i % 2, "model": ["rf", "lr"][i % 2]},
            scraps={"f1": i / 4},
            sweep_id="s",
            name=f"run{i}",
        )
    page = build(runs_dir, tmp_path, "--sort", sort)
    assert "parallel coordinates" in _section(page, "sweep-s")
