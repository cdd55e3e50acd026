"""After a sweep changed one section, the report reads only that section again: its runs for
the ``--sort`` column check (each section's parameter and scrap names are kept with its
fingerprint), and the durations figure only the rows of its sample. The page is the page drawn
anew; a damaged cache entry is a miss."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.main import main
from mlops_nb.report import cache as caching
from mlops_nb.report import outline
from tests.results.factory import make_run


def _page(runs: Path, out: Path, *args: str) -> str:
    assert main(["report", "--runs-dir", str(runs), "-o", str(out), "--sort", "f1", *args]) == 0
    return re.sub(r"generated [^<]*", "", out.read_text(encoding="utf-8"))


@pytest.fixture
def store(runs_dir: Path) -> Path:
    for s in range(4):
        for c in range(3):
            make_run(runs_dir, params={"C": c}, scraps={"f1": c / 10}, sweep_id=f"s{s}")
    return runs_dir


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The sections each ``outline.column_keys`` call read (None: every run)."""
    calls: list[Any] = []
    real = outline.column_keys

    def spy(sel: outline.Selection, outlines: Any = None) -> Any:
        calls.append(None if outlines is None else sorted(o.key for o in outlines))
        return real(sel, outlines)

    monkeypatch.setattr(outline, "column_keys", spy)
    return calls


def test_only_the_changed_section_is_read_for_the_column_check(
    store: Path, tmp_path: Path, reads: list[Any]
) -> None:
    out = tmp_path / "report.html"
    _page(store, out)
    assert reads == [None]  # the first page: every run, once
    _page(store, out)
    assert reads == [None]  # nothing changed: the page's columns from the cache
    make_run(store, params={"C": 9, "new": 1}, scraps={"f1": 0.9}, sweep_id="s2")
    page = _page(store, out)
    assert reads == [None, ["sweep-s2"]]
    assert page == _page(store, out, "--no-cache")
    assert main(["report", "--runs-dir", str(store), "-o", str(out), "--sort", "new"]) == 0


def test_a_damaged_entry_is_read_again(store: Path, tmp_path: Path, reads: list[Any]) -> None:
    out = tmp_path / "report.html"
    first = _page(store, out)
    bad = [{"params": "C", "scraps": []}, {"params": [1], "scraps": []}, ["C"], {"params": []}]
    names = [p for p in caching.folder(store).glob("*.json") if '"scraps"' in p.read_text("utf-8")]
    assert len(names) == 4  # one entry of names a section
    for path, value in zip(names, bad, strict=True):
        path.write_text(json.dumps(value), encoding="utf-8")
    make_run(store, params={"C": 5}, scraps={"f1": 0.5}, sweep_id="s0")  # the page's entry misses
    page = _page(store, out)
    assert reads == [None, None]  # all four missed: most runs, so one read of every run
    assert page == _page(store, out, "--no-cache") != first


def test_a_typo_is_still_refused_from_the_cached_names(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    _page(store, out)
    make_run(store, params={"C": 5}, scraps={"f1": 0.5}, sweep_id="s3")
    assert main(["report", "--runs-dir", str(store), "-o", str(out), "--sort", "f2"]) == 2
    assert "f2" in capsys.readouterr().err
