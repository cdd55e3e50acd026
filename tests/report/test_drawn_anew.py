"""The report drawn anew reads less than every row's every value: the run durations figure
reads only the sample it draws, the sections shown as a line plan no figures, and a page whose
sections hold most runs reads them in one scan. Each shortcut gives what the long way gives."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from mlops_nb.report import durations, model, outline, plots
from mlops_nb.report.rows import Rows
from tests.results.factory import make_run


@pytest.mark.parametrize("n", [1, 5, 6, 7, 50, 1000, 100_000])
def test_the_sample_rows_are_the_rows_pandas_samples(n: int) -> None:
    df = pd.DataFrame({"x": range(n)})
    by_pandas = df if n <= 5 else df.sample(n=5, random_state=0).sort_index()
    x = list(range(n))
    kept, note = plots.sample(Rows(("id", "x"), {}, {"id": [str(i) for i in x], "x": x}, {}), 5)
    rows = plots.sample_rows(n, 5)
    assert (rows or x) == kept["x"] == by_pandas["x"].tolist()
    assert note == ("" if rows is None else plots.sample_note(5, n))


@pytest.fixture
def store(runs_dir: Path) -> Path:
    """Three sweeps; runs without a duration, a failed one."""
    for s, notebook in enumerate(("a.ipynb", "b.ipynb", "a.ipynb")):
        for c in range(4):
            make_run(
                runs_dir,
                params={"C": c},
                scraps={"f1": c / 10},
                sweep_id=f"s{s}",
                notebook=notebook,
                status="failed" if c == 3 else "ok",
            )
    return runs_dir


def _full_durations(sel: outline.Selection) -> list[tuple[object, ...]]:
    """Every run's duration, notebook and status (what the figure drew from before), as
    ``collect`` gives them, in id order."""
    from mlops_nb.results.collect import collect

    df = collect(sel.runs_dir).sort_values("id")
    return [
        (None if pd.isna(d) else float(d), str(nb), str(st))
        for d, nb, st in df[["duration", "notebook", "status"]].itertuples(index=False)
    ]


@pytest.mark.parametrize("most", [3, 12, 100])
def test_the_durations_figure_reads_only_its_sample(
    store: Path, most: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    sel = outline.Selection(store)
    monkeypatch.setattr(plots, "MAX_POINTS", most)
    sampled, of = durations.durations(sel, most)
    assert len(sampled) == min(most, 12) and of == (12 if most < 12 else None)
    assert plots.duration_plot(sampled, of) == plots.duration_plot(_full_durations(sel))


def test_no_duration_no_durations_figure(runs_dir: Path) -> None:
    from mlops_nb.store import index

    for _ in range(3):
        make_run(runs_dir)
    conn = index.open_index(runs_dir)
    with conn:
        conn.execute("UPDATE runs SET duration_s = NULL")
    conn.close()
    sampled, _ = durations.durations(outline.Selection(runs_dir), 2)
    assert sampled == [] and plots.duration_plot(sampled, 3) is None


def test_a_scan_reads_what_the_conditions_read(store: Path) -> None:
    sel = outline.Selection(store)
    some = outline.read(sel).outlines[1:]
    by_conditions = outline.frames(sel, some)
    by_scan = outline.frames(sel, some, scan=True)
    assert list(by_scan) == list(by_conditions) == [o.key for o in some]
    for key, (rows, pipes) in by_scan.items():
        assert (rows, pipes) == by_conditions[key] and len(rows) == 4


@pytest.mark.parametrize("most", [5, 100])
def test_a_scan_gives_the_durations_figure_its_rows(store: Path, most: int) -> None:
    """The page drawn anew reads every run once: the durations figure takes its rows from the
    sections' scan."""
    sel = outline.Selection(store)
    every: list[tuple[object, ...]] = []
    outline.frames(sel, outline.read(sel).outlines[:1], scan=True, every=every)
    assert len(every) == 12
    (scanned, of), (read, of_read) = (
        durations.durations(sel, most, every),
        durations.durations(sel, most),
    )
    assert scanned == read and of == of_read


def test_a_section_keeps_none_and_drops_what_no_run_has(runs_dir: Path) -> None:
    """A parameter set to None in every run is shown (None); a scrap that is NaN in every run is
    not; a run pinned below the best MAX_ROWS is shown."""
    from mlops_nb.report.views import MAX_ROWS

    folders = [
        make_run(
            runs_dir,
            params={"p": None, "C": i},
            scraps={"gone": math.nan, "f1": i / 100},
            sweep_id="s",
        )
        for i in range(MAX_ROWS + 3)
    ]
    sel = outline.Selection(runs_dir)
    ((df, pipes),) = outline.frames(sel, outline.read(sel).outlines).values()
    pinned = {folders[1].name}
    (sec,) = model.sections(df, pipes, sort=None, ascending=False, selects={}, pinned=pinned)
    assert "params.p" in sec.df.columns and "scraps.gone" not in sec.df.columns
    assert sec.sort == "scraps.f1" and sec.rows["id"][-1] == folders[1].name
    assert len(sec.rows) == MAX_ROWS + 1 and sec.hidden == 2
