"""A section's hints name a command that lists that section's runs (pasted, it lists what the
hint talks about, under the page's own filters); two sections whose names differ only in
characters an anchor cannot hold get anchors of their own, the same on every page."""

from __future__ import annotations

import html
import json
import re
import shlex
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.report.views import MAX_FAILED, MAX_ROWS
from tests.results.factory import make_run

N = MAX_ROWS + 2  # ok runs a section: some are not shown
N_FAILED = MAX_FAILED + 1  # failed runs a section: some are not listed


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[str]]]:
    """Two sweeps of one notebook (one id a prefix of the other's), that notebook's runs outside
    them, a pipeline step's runs:
    each with more runs than a section shows and failed runs than it lists. Returns the store
    and each section's run ids (``key: ids``)."""
    runs = tmp_path_factory.mktemp("hints") / "runs"
    ids: dict[str, set[str]] = {}
    kinds = {
        "sweep-s1": {"sweep_id": "s1", "notebook": "nb/eda.ipynb"},
        "sweep-s10": {"sweep_id": "s10", "notebook": "nb/eda.ipynb"},  # s1 is a prefix of it
        "notebook-nb/eda.ipynb": {"notebook": "nb/eda.ipynb"},
        "step-p-train": {
            "notebook": "nb/train.ipynb",
            "pipeline": {"name": "p", "step": "train", "run_id": "i1", "file": "p.yaml"},
        },
    }
    for key, how in kinds.items():
        made = [
            make_run(runs, params={"C": i}, scraps={"f1": i / N}, **how)  # type: ignore[arg-type]
            for i in range(N)
        ]
        made += [make_run(runs, params={"C": -1}, status="failed", **how) for _ in range(N_FAILED)]  # type: ignore[arg-type]
        ids[key] = {f.name for f in made}
    return runs, ids


def _hints(page: str, section: str) -> tuple[str, str]:
    """The section's "list them all with" and "see them with" commands."""
    m = re.search(
        rf'<section class="section" id="sec-{re.escape(section)}">(.*?)</section>', page, re.S
    )
    assert m, section
    listed = re.findall(r"(?:list them all|see them) with <code>(.*?)</code>", m.group(1))
    assert len(listed) == 2, listed
    return html.unescape(listed[0]), html.unescape(listed[1])


def _listed(hint: str, capsys: pytest.CaptureFixture[str]) -> set[str]:
    """The run ids the pasted command lists."""
    argv = shlex.split(hint)
    assert argv[:2] == ["mlops-nb", "collect"]
    capsys.readouterr()
    assert main([*argv[1:], "--columns", "id", "--format", "json"]) == 0
    return {row["id"] for row in json.loads(capsys.readouterr().out)}


@pytest.mark.parametrize(
    ("args", "keep"),
    [
        pytest.param((), lambda status, c: True, id="no-filter"),
        pytest.param(
            ("--where", "C < 40", "--status", "ok,failed"),
            lambda status, c: c < 40,
            id="the-pages-filters",
        ),
    ],
)
def test_a_hint_lists_the_runs_of_its_section(
    store: tuple[Path, dict[str, set[str]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    keep: object,
) -> None:
    runs, ids = store
    out = tmp_path / "report.html"
    assert main(["report", "--runs-dir", str(runs), "-o", str(out), *args]) == 0
    page = out.read_text(encoding="utf-8")
    records = {
        rid: json.loads((runs / rid / "run.json").read_text(encoding="utf-8"))
        for rids in ids.values()
        for rid in rids
    }
    for key, rids in ids.items():
        section = key if "/" not in key else _anchor(page, key)
        more, failed = _hints(page, section)
        wanted = {r for r in rids if keep(records[r]["status"], records[r]["params"]["C"])}  # type: ignore[operator]
        assert _listed(more, capsys) == wanted, (key, more)
        bad = {r for r in wanted if records[r]["status"] == "failed"}
        assert _listed(failed, capsys) == bad, (key, failed)


def _anchor(page: str, key: str) -> str:
    """The anchor of the section titled as ``key``'s notebook."""
    title = "notebook " + Path(key.split("-", 1)[1]).name
    m = re.search(rf'<a href="#sec-([^"]+)">{re.escape(html.escape(title))}</a>', page)
    assert m, title
    return m.group(1)


def test_sections_whose_names_slug_alike_get_anchors_of_their_own(
    runs_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"

    def anchors() -> dict[str, str]:
        assert main(["report", "--runs-dir", str(runs_dir), "-o", str(out)]) == 0
        page = out.read_text(encoding="utf-8")
        found = re.findall(r'<a href="#sec-([^"]+)">([^<]+)</a>', page)
        nav = {html.unescape(t): a for a, t in found}
        sections = re.findall(r'<section class="section" id="sec-([^"]+)">', page)
        assert sorted(sections) == sorted(nav.values())
        return nav

    make_run(runs_dir, scraps={"f1": 0.5}, sweep_id="a b")
    alone = anchors()["sweep a b"]
    for name in ("a-b", "a/b", "a  b"):
        make_run(runs_dir, scraps={"f1": 0.5}, sweep_id=name)
    nav = anchors()
    assert len(set(nav.values())) == len(nav) == 4
    assert nav["sweep a-b"] == "sweep-a-b"  # a name an anchor can hold is its own anchor
    assert nav["sweep a b"] == alone  # stable: whatever else the page shows
