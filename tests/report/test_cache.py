"""The report's cache (``mlops_nb.report.cache``): a page assembled from it is the page drawn
anew (``--no-cache``) whatever changed in between (runs added, rewritten, removed, promoted; the
options; the page's folder), it loads neither pandas nor matplotlib when nothing changed, and a
cache that cannot be read or written costs nothing but time."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.registry import api as registry
from mlops_nb.report import cache as caching
from mlops_nb.report.views import MAX_SECTIONS
from tests.results.factory import make_run


def _page(runs: Path, out: Path, *args: str) -> str:
    assert main(["report", "--runs-dir", str(runs), "-o", str(out), *args]) == 0
    return re.sub(r"generated [^<]*", "", out.read_text(encoding="utf-8"))


def _same_as_drawn_anew(runs: Path, out: Path, *args: str) -> str:
    """The page with the cache, checked against the page drawn without it."""
    cached = _page(runs, out, *args)
    fresh = _page(runs, out, *args, "--no-cache")
    assert cached == fresh
    return cached


@pytest.fixture
def store(runs_dir: Path) -> Path:
    """MAX_SECTIONS + 2 sweeps (the oldest two are a line each), three runs each, one failed."""
    for s in range(MAX_SECTIONS + 2):
        for c in (1, 2):
            make_run(
                runs_dir, params={"C": c}, scraps={"f1": c / 10 + s / 100}, sweep_id=f"s{s:02d}"
            )
        make_run(runs_dir, params={"C": 3}, status="failed", sweep_id=f"s{s:02d}")
    return runs_dir


def _entries(runs: Path) -> list[Path]:
    return sorted(caching.folder(runs).glob("*.json"))


def test_an_unchanged_store_gives_the_same_page_without_pandas_or_matplotlib(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    first = _page(store, out)
    assert _entries(store)
    code = (
        "import json, sys\nfrom mlops_nb.main import main\n"
        f"rc = main(['report', '--runs-dir', {str(store)!r}, '-o', {str(out)!r}])\n"
        "print(json.dumps([rc, sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules)]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == [0, []]
    assert re.sub(r"generated [^<]*", "", out.read_text(encoding="utf-8")) == first
    assert (
        "more sections" in first
        and first.count('<section class="section" id="sec-') == MAX_SECTIONS
    )


def test_runs_added_rewritten_or_removed_are_drawn_anew(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    _page(store, out)
    best = make_run(store, params={"C": 9}, scraps={"f1": 0.987}, sweep_id="s05")
    assert "0.987" in _same_as_drawn_anew(store, out)
    record = json.loads((best / "run.json").read_text(encoding="utf-8"))
    record["scraps"]["f1"] = 0.654
    (best / "run.json").write_text(json.dumps(record), encoding="utf-8")
    assert main(["reindex", "--runs-dir", str(store)]) == 0  # a finished record edited by hand
    page = _same_as_drawn_anew(store, out)
    assert "0.654" in page and "0.987" not in page
    shutil.rmtree(best)
    assert "0.654" not in _same_as_drawn_anew(store, out)
    # a section shown as a line gets a run: its line says so
    make_run(store, params={"C": 7}, scraps={"f1": 0.321}, sweep_id="s00")
    assert "0.321" in _same_as_drawn_anew(store, out)


def test_the_options_and_the_pages_folder_are_part_of_the_key(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    for args in (
        (),
        ("--sort", "C"),
        ("--sort", "C", "--asc"),
        ("--metrics", "f1"),
        ("--where", "C > 1"),
        ("--status", "failed"),
        ("--sweep", "s03"),
    ):
        _page(store, out, *args)
        _same_as_drawn_anew(store, out, *args)
    elsewhere = tmp_path / "deeper" / "folder" / "report.html"
    elsewhere.parent.mkdir(parents=True)
    page = _same_as_drawn_anew(store, elsewhere)
    assert f'href="{os.path.relpath(store, elsewhere.parent)}/' in page


def test_a_promoted_run_is_pinned_on_the_cached_page(runs_dir: Path, tmp_path: Path) -> None:
    folders = [
        make_run(runs_dir, params={"C": i}, scraps={"f1": i / 100}, sweep_id="big")
        for i in range(60)
    ]
    out = tmp_path / "report.html"
    assert folders[0].name not in _page(runs_dir, out)  # the worst run: below the best 50
    (folders[0] / "model.joblib").write_bytes(b"model")
    registry.promote(runs_dir, "clf", folders[0].name, ["champion"])
    assert folders[0].name in _same_as_drawn_anew(runs_dir, out)


def test_unreadable_entries_are_misses_and_are_rewritten(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    first = _page(store, out)
    for entry in _entries(store):
        entry.write_text("{not json", encoding="utf-8")
    assert _page(store, out) == first
    assert all(json.loads(e.read_text(encoding="utf-8")) is not None for e in _entries(store))


def test_a_cache_that_cannot_be_written_costs_nothing(store: Path, tmp_path: Path) -> None:
    folder = caching.folder(store)
    folder.parent.mkdir(parents=True)
    folder.write_text("a file where the cache folder would be", encoding="utf-8")
    out = tmp_path / "report.html"
    assert _page(store, out) == _page(store, out, "--no-cache")
    assert folder.is_file()


def test_no_cache_reads_and_writes_nothing(store: Path, tmp_path: Path) -> None:
    _page(store, tmp_path / "report.html", "--no-cache")
    assert not caching.folder(store).exists()


def test_the_cache_is_the_users_not_the_stores(store: Path, tmp_path: Path) -> None:
    """A store shared by a team may be writable by all: nothing in it goes into one's page."""
    _page(store, tmp_path / "report.html")
    assert _entries(store)
    assert str(caching.folder(store)).startswith(os.environ["XDG_CACHE_HOME"])
    assert not [p for p in store.iterdir() if p.name.startswith(".")]


def test_entries_of_the_wrong_shape_or_kind_are_misses(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    first = _page(store, out)
    entries = _entries(store)
    shapes = ["[1, 2]", "{}", '{"count": "x", "varying": [], "line": ""}', '"text"', "null", "7"]
    for i, entry in enumerate(entries):
        entry.write_text(shapes[i % len(shapes)], encoding="utf-8")
    assert _page(store, out) == first
    fifo = _entries(store)[0]
    fifo.unlink()
    os.mkfifo(fifo)  # reading it would block: it is no regular file, so a miss
    assert _page(store, out) == first


def test_pruning_never_follows_a_link(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caching, "MAX_ENTRIES", 4)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for i in range(10):
        (elsewhere / f"{i}.json").write_text("{}", encoding="utf-8")
    folder = caching.folder(store)
    folder.mkdir(parents=True)
    for i in range(10):
        (folder / f"link{i}.json").symlink_to(elsewhere / f"{i}.json")
    _page(store, tmp_path / "report.html")
    assert len(list(elsewhere.iterdir())) == 10


def test_a_run_found_lost_is_drawn_anew(runs_dir: Path, tmp_path: Path) -> None:
    """The index marks a run whose driver died ``lost`` without its record changing."""
    from mlops_nb.store import liveness

    make_run(runs_dir, params={"C": 1}, scraps={"f1": 0.5}, sweep_id="s")
    folder = make_run(runs_dir, params={"C": 2}, status="running", sweep_id="s")
    driver = subprocess.Popen(["sleep", "600"])
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        record.update(
            liveness.owner(), pid=driver.pid, pid_started=liveness.start_ticks(driver.pid)
        )
        (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
        out = tmp_path / "report.html"
        assert '<tr class="running">' in _page(runs_dir, out)
    finally:
        driver.kill()
        driver.wait()
    page = _same_as_drawn_anew(runs_dir, out)
    assert '<tr class="running">' not in page and '<tr class="lost">' in page


def test_two_filters_never_share_an_entry(runs_dir: Path, tmp_path: Path) -> None:
    """Runs unpacked from an archive can have the same modification time, so that two filters'
    runs have the same count, first and last runs and times: the filter is part of the key."""
    folders = [
        make_run(runs_dir, params={"x": x}, scraps={"f1": x / 10}, sweep_id="s") for x in range(5)
    ]
    for folder in folders:
        os.utime(folder / "run.json", ns=(10**18, 10**18))
    assert main(["reindex", "--full", "--runs-dir", str(runs_dir)]) == 0
    out = tmp_path / "report.html"
    _page(runs_dir, out, "--where", "x != 2")
    page = _same_as_drawn_anew(runs_dir, out, "--where", "x != 3")
    assert folders[2].name in page and folders[3].name not in page


def test_the_cache_is_no_run(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _page(store, tmp_path / "report.html")
    capsys.readouterr()
    assert main(["collect", "--runs-dir", str(store), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 3 * (MAX_SECTIONS + 2)
    assert captured.err == ""


def test_the_least_recently_used_entries_go_past_the_limit(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caching, "MAX_ENTRIES", 8)
    out = tmp_path / "report.html"
    _page(store, out)
    _page(store, out, "--sort", "C")  # new entries: the first page's are pruned
    # a section's summary, HTML and (with --sort) column names; the page's columns, durations
    assert len(_entries(store)) <= 8 + 3 * (MAX_SECTIONS + 2) + 2
    before = len(_entries(store))
    _page(store, out, "--asc")
    assert len(_entries(store)) < before + 2 * (MAX_SECTIONS + 2) + 2


@pytest.mark.parametrize("flag", ["--sort", "--metrics"])
def test_a_column_no_run_has_is_refused(
    store: Path, tmp_path: Path, flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--runs-dir", str(store), "-o", str(out), flag, "nosuch"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "runs index" not in line]
    assert len(err) == 1 and "no column 'nosuch'" in err[0] and "scraps.f1" in err[0]
    assert not out.exists()


def test_the_pages_hints_name_the_store_unless_it_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import html

    from mlops_nb.report.views import MAX_FAILED, MAX_ROWS

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_NB_RUNS_DIR", raising=False)
    runs = tmp_path / "elsewhere" / "runs"
    for i in range(MAX_ROWS + 2):
        make_run(runs, params={"C": i}, scraps={"f1": i / 100}, sweep_id="big")
    for _ in range(MAX_FAILED + 1):
        make_run(runs, params={"C": 0}, status="failed", sweep_id="big")
    out = tmp_path / "report.html"
    page = html.unescape(_page(runs, out))
    big = "--sweep big"  # the section's runs (tests/report/test_hints_and_anchors)
    assert f"<code>mlops-nb collect {big} --runs-dir {runs}</code>" in page
    failed = "--status failed,timeout,interrupted"
    assert f"<code>mlops-nb collect {big} {failed} --runs-dir {runs}</code>" in page
    monkeypatch.setenv("MLOPS_NB_RUNS_DIR", str(runs))  # now the default: the cached page differs
    page = html.unescape(_same_as_drawn_anew(runs, out))
    assert f"<code>mlops-nb collect {big}</code>" in page and "--runs-dir" not in page


@pytest.mark.parametrize(
    ("flag", "value"), [("--sort", ""), ("--sort", " "), ("--metrics", ""), ("--metrics", "f1,")]
)
def test_an_empty_column_is_refused(
    store: Path, tmp_path: Path, flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--runs-dir", str(store), "-o", str(out), flag, value]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "runs index" not in line]
    assert len(err) == 1 and f"{flag} {value!r} names an empty column" in err[0]
    assert not out.exists()


def test_a_column_the_chosen_runs_lack_but_others_have_is_no_typo(
    store: Path, tmp_path: Path
) -> None:
    """Failed runs glued no f1: a report of them sorted by f1 (a pipeline step's `status:
    failed, sort: f1`) is no mistake."""
    from mlops_nb.errors import UsageError
    from mlops_nb.report import compare_view

    page = _page(store, tmp_path / "report.html", "--status", "failed", "--sort", "f1")
    assert page.count('<tr class="failed">') >= MAX_SECTIONS
    assert compare_view(store, status="failed", sort="f1").n_runs == MAX_SECTIONS + 2
    with pytest.raises(UsageError, match="no column 'nosuch'"):
        compare_view(store, sort="nosuch")


def test_sections_past_the_sql_condition_limit_are_read_alike(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``_MOST_GROUPS`` sections to draw, their runs are read with one scan of the
    selection instead of one condition per group: the same page."""
    from mlops_nb.report import outline

    out = tmp_path / "report.html"
    by_conditions = _page(store, out, "--no-cache")
    monkeypatch.setattr(outline, "_MOST_GROUPS", 1)
    assert _same_as_drawn_anew(store, out) == by_conditions


def test_temp_files_left_by_a_killed_report_are_removed(store: Path, tmp_path: Path) -> None:
    folder = caching.folder(store)
    folder.mkdir(parents=True)
    old, new = folder / ".x.json.1.tmp", folder / ".y.json.2.tmp"
    for leftover in (old, new):
        leftover.write_text("{", encoding="utf-8")
    os.utime(old, (0, 0))  # an hour and more: its report is gone; a newer one may be writing
    _page(store, tmp_path / "report.html")
    assert not old.exists() and new.exists()
