"""The painter (``mlops_nb.report.painter``): a real helper process draws the figures the page
would draw itself, the same ones; it is started only when the runs index changed since the last
page (or the cache is off); whatever goes wrong with it, the page draws the figure itself."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.report import cache as caching
from mlops_nb.report import durations, outline, painter, plots
from mlops_nb.report.rows import Rows
from mlops_nb.store import query
from tests.results.factory import make_run

pytest.importorskip("matplotlib")


@pytest.fixture
def store(runs_dir: Path) -> Path:
    for c in range(6):
        make_run(
            runs_dir,
            params={"C": c, "model": ["rf", "svm"][c % 2], "n": c * 10},
            scraps={"f1": c / 10},
            sweep_id="s",
        )
    make_run(runs_dir, params={"C": 9}, status="failed", sweep_id="s")
    return runs_dir


def _rows(store: Path) -> Rows:
    sel = outline.Selection(store)
    ((rows, _),) = outline.frames(sel, outline.read(sel).outlines).values()
    return rows.having("status", {"ok"})


def _figures(store: Path) -> list[tuple[str, tuple[object, ...]]]:
    ok, params = _rows(store), ("params.C", "params.model", "params.n")
    sampled = durations.durations(outline.Selection(store), plots.MAX_POINTS)
    return [
        ("metric_plot", (ok, "scraps.f1", params, "sweep s")),
        ("parallel_plot", (ok, params, "scraps.f1", "sweep s")),
        ("duration_plot", sampled),
        ("duration_figure", (outline.Selection(store), None)),  # it reads the index itself
    ]


def test_the_painter_draws_what_the_page_draws(store: Path) -> None:
    p = painter.Painter.start()
    assert p is not None
    try:
        asked = [p.ask(name, args) for name, args in _figures(store)]
        assert asked == [0, 1, 2, 3]
        import matplotlib

        # a process that set its own style (``sns.set_theme``, ``mlops_nb.ml``'s plots) draws
        # the page's figures as a fresh painter does
        with matplotlib.rc_context({"figure.dpi": 72, "axes.facecolor": "#eaeaf2"}):
            for number, (name, args) in zip(asked, _figures(store), strict=True):
                assert number is not None
                ok, figure = p.answer(number)
                assert ok and figure == painter._figure(name)(*args)
    finally:
        p.stop()
    assert p.proc.returncode is not None


def test_a_figure_the_painter_fails_is_drawn_here(store: Path) -> None:
    """A figure that raises there is answered as failed (the page meets the error itself); a
    dead painter answers nothing, and ``draw`` draws here."""
    p = painter.Painter.start()
    assert p is not None
    try:
        bad = p.ask("metric_plot", (_rows(store), "scraps.nope", ("params.C",), "s"))
        good = p.ask("duration_plot", _figures(store)[2][1])
        assert bad is not None and good is not None
        assert p.answer(bad) == (False, None)
        assert p.answer(good)[0]
        os.killpg(p.proc.pid, signal.SIGKILL)  # both painters
        p.proc.wait()
        for channel in p.channels:  # the end of each pipe: its painter is gone
            assert channel.answers.read() == b""
        late = p.ask("duration_plot", _figures(store)[2][1])  # None, or sent as it died
        assert late is None or p.answer(late) == (False, None)
        assert p.answer(5) == (False, None)
    finally:
        p.stop()
    painter._active.append(p)  # the page's painter died: every figure is drawn here
    try:
        for name, args in _figures(store):
            assert painter.draw(name, *args)() == painter._figure(name)(*args)
    finally:
        painter._active.remove(p)
    with pytest.raises(ValueError, match="not a figure"):
        painter.draw("__import__", "os")


def test_the_painter_starts_when_the_index_changed(store: Path) -> None:
    store_cache = caching.Cache(store)
    started = []
    for change in (None, None, "a run", None):
        if change:
            make_run(store, params={"C": 7}, scraps={"f1": 0.7}, sweep_id="s")
            query.sync(store)  # indexed, as a finished run indexes itself
        with painter.painting(store, store_cache):
            started.append(bool(painter._active))
    assert started == [True, False, True, False]
    with painter.painting(store, caching.Cache(store, enabled=False)):
        assert painter._active  # every section is drawn: it is always worth starting
    assert not painter._active
    missing = store.parent / "no-store"
    with painter.painting(missing, caching.Cache(missing)):
        assert not painter._active  # the page says the store is missing; nothing to draw
    assert not caching.folder(missing).exists()


def _page(runs: Path, out: Path, *args: str) -> str:
    assert main(["report", "--runs-dir", str(runs), "-o", str(out), *args]) == 0
    return re.sub(r"generated [^<]*", "", out.read_text(encoding="utf-8"))


def test_the_page_is_the_same_with_and_without_the_painter(store: Path, tmp_path: Path) -> None:
    from mlops_nb.report import build_report

    with_painter = _page(store, tmp_path / "a.html", "--no-cache")
    build_report(store, output=tmp_path / "a.html", cache=False)  # no painter in the API
    here = re.sub(r"generated [^<]*", "", (tmp_path / "a.html").read_text(encoding="utf-8"))
    assert with_painter == here
    assert with_painter.count("data:image/png;base64,") >= 3


def test_a_painter_ignores_modules_in_the_current_folder(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m`` puts the current folder first on the import path: a project's
    ``numpy.py`` must not run in the painter (review8 M1)."""
    here = tmp_path / "project"
    here.mkdir()
    marker = tmp_path / "ran"
    (here / "numpy.py").write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
    monkeypatch.chdir(here)
    p = painter.Painter.start()
    assert p is not None
    try:
        name, args = _figures(store)[0]
        number = p.ask(name, args)
        assert number is not None and p.answer(number)[0]
    finally:
        p.stop()
    assert not marker.exists()


def test_a_page_that_fails_kills_its_painters_at_once(store: Path) -> None:
    """Painters that drew end by themselves after a page that is done; after one that failed
    or was interrupted they are killed (review8 L1: Ctrl-C waited for their figures)."""
    name, args = _figures(store)[1]
    started: list[painter.Painter] = []

    def page() -> None:
        with painter.painting(store, caching.Cache(store, enabled=False)):
            started.extend(painter._active)
            painter.draw(name, *args)()
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        page()
    (p,) = started
    assert p.proc.returncode == -signal.SIGKILL
    with painter.painting(store, caching.Cache(store, enabled=False)):
        (p,) = painter._active
        painter.draw(name, *args)()
    assert p.proc.returncode == 0


def test_a_figure_is_sent_only_its_columns(store: Path) -> None:
    """A figure gets the columns it draws (review8 M2: every column went down the pipe), and
    draws the same from them."""
    ok, params = _rows(store), ["params.C", "params.n"]
    only = ok.only([*params, "scraps.f1"])
    assert only.columns == ("id", "params.C", "params.n", "scraps.f1")
    assert set(only.nulls) <= set(only.columns)
    assert plots.metric_plot(only, "scraps.f1", params, "s") == plots.metric_plot(
        ok, "scraps.f1", params, "s"
    )


def test_a_parallel_plot_coloured_by_the_start(store: Path, tmp_path: Path) -> None:
    """``--sort started`` colours the parallel coordinates by the time (review8 H1: a
    datetime was no float)."""
    page = _page(store, tmp_path / "r.html", "--sort", "started")
    assert "parallel coordinates of 3 parameters" in page
