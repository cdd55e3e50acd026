"""``collect --sweep ID`` is that sweep alone when ID is one (a unique prefix otherwise, an
ambiguous one refused with the list); ``--step`` selects a pipeline step's runs, so a step
section's hint lists that step's runs only, not those of another step running the same
notebook; pipeline headline anchors are slugged, unique and linked from the nav."""

from __future__ import annotations

import html
import json
import re
import shlex
from pathlib import Path

import pytest

from mlops_nb import collect
from mlops_nb.errors import UsageError
from mlops_nb.main import main
from mlops_nb.report.views import MAX_ROWS
from tests.results.factory import make_run


def _ids(capsys: pytest.CaptureFixture[str], *argv: str) -> set[str]:
    capsys.readouterr()
    assert main(["collect", *argv, "--columns", "id", "--format", "json"]) == 0
    return {row["id"] for row in json.loads(capsys.readouterr().out)}


@pytest.fixture
def sweeps(runs_dir: Path) -> dict[str, set[str]]:
    """Sweeps ``s1`` and ``s10`` (one id a prefix of the other), and ``other-7``."""
    return {
        s: {make_run(runs_dir, params={"C": i}, sweep_id=s).name for i in range(2)}
        for s in ("s1", "s10", "other-7")
    }


def test_a_sweep_id_is_that_sweep_alone(
    runs_dir: Path, sweeps: dict[str, set[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    rd = ("--runs-dir", str(runs_dir))
    assert _ids(capsys, *rd, "--sweep", "s1") == sweeps["s1"]
    assert _ids(capsys, *rd, "--sweep", "s10") == sweeps["s10"]
    assert _ids(capsys, *rd, "--sweep", "oth") == sweeps["other-7"]  # a unique prefix
    assert set(collect(runs_dir, sweep="s1")["id"]) == sweeps["s1"]
    assert set(collect(runs_dir, sweep="s1", status="ok")["id"]) == sweeps["s1"]


def test_a_prefix_of_several_sweeps_is_refused_with_them(
    runs_dir: Path, sweeps: dict[str, set[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["collect", "--runs-dir", str(runs_dir), "--sweep", "s"]) == 2
    err = capsys.readouterr().err
    assert "matches 2 sweeps" in err and "s1, s10" in err and "Traceback" not in err
    with pytest.raises(UsageError, match="matches 2 sweeps"):
        collect(runs_dir, sweep="s")


@pytest.fixture
def steps(runs_dir: Path) -> dict[str, set[str]]:
    """Pipeline ``p``'s steps ``train`` and ``again`` run the same notebook, more runs than a
    section shows; pipeline ``q`` has a step ``train`` too."""
    out: dict[str, set[str]] = {}
    for pipe, step, n in (("p", "train", MAX_ROWS + 2), ("p", "again", 3), ("q", "train", 2)):
        meta = {"name": pipe, "step": step, "run_id": "i1", "file": f"{pipe}.yaml"}
        out[f"{pipe}/{step}"] = {
            make_run(
                runs_dir, params={"C": i}, scraps={"f1": i}, notebook="nb.ipynb", pipeline=meta
            ).name
            for i in range(n)
        }
    return out


def test_step_selects_a_steps_runs(
    runs_dir: Path, steps: dict[str, set[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    rd = ("--runs-dir", str(runs_dir))
    assert _ids(capsys, *rd, "--pipeline", "p", "--step", "again") == steps["p/again"]
    assert _ids(capsys, *rd, "--step", "train") == steps["p/train"] | steps["q/train"]
    capsys.readouterr()
    assert main(["collect", *rd, "--step", "train", "--format", "csv", "--columns", "id"]) == 0
    lines = capsys.readouterr().out.split()
    assert set(lines[1:]) == steps["p/train"] | steps["q/train"]  # the CSV path without pandas
    assert set(collect(runs_dir, pipeline="q", step="train")["id"]) == steps["q/train"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--step", "tarin"), "no run of a step 'tarin' in"),
        (("--pipeline", "q", "--step", "again"), "no run of a step 'again' in pipeline 'q'"),
        (("--step", "tarin", "--format", "csv"), "no run of a step 'tarin' in"),
    ],
)
def test_an_unknown_step_is_refused_with_the_steps_there_are(
    runs_dir: Path,
    steps: dict[str, set[str]],
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    message: str,
) -> None:
    capsys.readouterr()
    assert main(["collect", "--runs-dir", str(runs_dir), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "; steps that made runs: " in err and "Traceback" not in err
    assert "(a gate, or a step not run yet, makes none)." in err  # a gate step has no runs
    filters = [a for a in argv if a not in ("--format", "csv")]
    assert main(["report", "--runs-dir", str(runs_dir), *filters, "-o", "r.html"]) == 2
    assert message in capsys.readouterr().err


def test_a_known_step_that_matches_no_run_is_no_error(
    runs_dir: Path, steps: dict[str, set[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        _ids(capsys, "--runs-dir", str(runs_dir), "--step", "again", "--status", "failed") == set()
    )


def test_a_step_sections_hint_lists_that_steps_runs(
    runs_dir: Path, steps: dict[str, set[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--runs-dir", str(runs_dir), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    m = re.search(r'<section class="section" id="sec-step-p-train">(.*?)</section>', page, re.S)
    assert m
    (hint,) = re.findall(r"list them all with <code>(.*?)</code>", m.group(1))
    argv = shlex.split(html.unescape(hint))
    assert "--step" in argv and argv[:2] == ["mlops-nb", "collect"]
    assert _ids(capsys, *argv[2:]) == steps["p/train"]  # not p's other step on nb.ipynb


def _invocation(runs_dir: Path, pipeline: str, inv: str) -> None:
    meta = {"name": pipeline, "file": "x.yaml", "run_id": inv, "step": "s", "upstream": {}}
    folder = make_run(runs_dir, scraps={"f1": 0.5}, pipeline=meta)
    record = {
        "id": inv,
        "pipeline": pipeline,
        "file": "x.yaml",
        "finished_at": "2026-01-01T00:00:00Z",
        "ok": True,
        "steps": {"s": {"action": "ran", "status": "ok", "run_id": folder.name}},
    }
    folder = runs_dir / "pipelines" / pipeline / "runs"
    folder.mkdir(parents=True)
    (folder / f"{inv}.json").write_text(json.dumps(record), encoding="utf-8")


def test_headline_anchors_are_slugs_unique_and_linked(runs_dir: Path, tmp_path: Path) -> None:
    for pipeline, inv in (("my pipe", "i 1"), ("a-b", "c"), ("a", "b-c"), ("p", "inv-1")):
        _invocation(runs_dir, pipeline, inv)
    out = tmp_path / "report.html"
    assert main(["report", "--runs-dir", str(runs_dir), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    ids = re.findall(r'<section class="headline" id="([^"]+)">', page)
    assert len(ids) == len(set(ids)) == 4
    assert all(re.fullmatch(r"headline-[A-Za-z0-9_.~-]+", i) for i in ids), ids
    assert "headline-p-inv-1" in ids  # a plain name and id: the anchor is readable
    (linked,) = re.findall(r'<nav><a href="#(headline-[^"]+)">', page)
    assert linked in ids
