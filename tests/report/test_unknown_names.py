"""`report` with a filter naming a sweep, pipeline or notebook the store does not have: one line
(what is missing, what exists, how to list it), exit 2, no file written. A filter that names
things the store has but matches no run writes a page that says so, exit 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.errors import UsageError
from mlops_nb.main import main
from mlops_nb.report import build_report, compare_view
from mlops_nb.store import index
from mlops_nb.store.names import SHOWN, check_named
from tests.results.factory import make_run


@pytest.fixture
def store(runs_dir: Path) -> Path:
    pipe = {"name": "etl", "run_id": "inv-1", "step": "load", "upstream": {}}
    make_run(runs_dir, params={"C": 1}, scraps={"f1": 0.5}, sweep_id="sweep-a1")
    make_run(runs_dir, params={"C": 2}, scraps={"f1": 0.6}, sweep_id="sweep-a1")
    make_run(runs_dir, notebook="nb/eda.ipynb", scraps={"rows": 3}, pipeline=pipe)
    index.rebuild(runs_dir)  # its notice is not the line under test
    return runs_dir


UNKNOWN = [
    pytest.param(["--sweep", "NOSUCH"], "no sweep 'NOSUCH'", "its sweeps: sweep-a1", id="sweep"),
    pytest.param(["--pipeline", "nope"], "no pipeline 'nope'", "its pipelines: etl", id="pipeline"),
    pytest.param(
        ["--notebook", "zzz.ipynb"],
        "no notebook 'zzz.ipynb'",
        "its notebooks: nb/eda.ipynb, train.ipynb",
        id="notebook",
    ),
    pytest.param(  # the sweep exists, the notebook does not: the unknown one is named
        ["--sweep", "sweep-a", "--notebook", "nothere"], "no notebook 'nothere'", "", id="both"
    ),
]


@pytest.mark.parametrize(("args", "what", "known"), UNKNOWN)
def test_an_unknown_name_is_one_line_exit_2_and_no_file(
    store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    what: str,
    known: str,
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--runs-dir", str(store), "-o", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and what in err and known in err
    assert "mlops-nb collect" in err or "ls " in err  # how to list what exists
    assert "Traceback" not in err
    assert not out.exists()


def test_an_older_report_is_left_as_it_was(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("the last good report", encoding="utf-8")
    assert main(["report", "--runs-dir", str(store), "-o", str(out), "--sweep", "x"]) == 2
    assert out.read_text(encoding="utf-8") == "the last good report"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--sweep", "sweep-a", "--status", "failed"], id="status"),
        pytest.param(["--where", "f1 > 5"], id="where"),
        pytest.param(["--pipeline", "etl", "--sweep", "sweep-a1"], id="known-names"),
    ],
)
def test_known_names_matching_no_run_write_a_page_that_says_so(
    store: Path, tmp_path: Path, args: list[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--runs-dir", str(store), "-o", str(out), *args]) == 0
    page = out.read_text(encoding="utf-8")
    assert '<p class="muted">0 runs (none)' in page and "No runs match." in page


def test_a_sweep_or_pipeline_with_a_record_but_no_runs_is_known(runs_dir: Path) -> None:
    make_run(runs_dir, scraps={"f1": 0.5})
    (runs_dir / "sweeps").mkdir()
    (runs_dir / "sweeps" / "sweep-empty.json").write_text(json.dumps({"id": "sweep-empty"}))
    (runs_dir / "pipelines" / "fresh").mkdir(parents=True)
    check_named(runs_dir, sweep="sweep-empty", pipeline="fresh")
    assert build_report(runs_dir, output=runs_dir.parent / "r.html", sweep="sweep-e").exists()


def test_names_are_matched_as_the_filters_match_them(store: Path) -> None:
    check_named(store, sweep="sweep-a", notebook="eda")  # a sweep prefix; a name without .ipynb
    check_named(store, notebook="nb/eda.ipynb")  # the recorded path
    check_named(store, notebook="/project/nb/eda.ipynb")  # the absolute path


def test_a_long_list_is_cut_and_an_empty_store_says_none(runs_dir: Path) -> None:
    for i in range(SHOWN + 3):
        make_run(runs_dir, sweep_id=f"s{i}")
    with pytest.raises(UsageError, match=r"its sweeps: s0, s1, s2, s3, s4 and 3 more \(list"):
        check_named(runs_dir, sweep="x")
    empty = runs_dir.parent / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match=r"no pipeline 'p' in .*; none yet\.$"):
        check_named(empty, pipeline="p")


def test_the_notebook_view_says_so_too(store: Path) -> None:
    with pytest.raises(UsageError, match="no sweep 'NOSUCH'"):
        compare_view(store, sweep="NOSUCH")
    assert compare_view(store, sweep="sweep-a1").n_runs == 2
