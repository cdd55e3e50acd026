"""What a rerun records and judges: a name of its own (``NAME-rerun-N``) linked to the original,
the original's registry provenance, and no verdict when the original left nothing to compare;
``show`` of a run that did not finish says what it has."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.results.rerun import rerun_name
from mlops_nb.store import runs as store
from tests import nbbuild as b
from tests.results.factory import make_run


def _folders(runs_dir: Path) -> list[Path]:
    return sorted(p for p in runs_dir.iterdir() if (p / store.RECORD).is_file())


def _lose(folder: Path, *, partial: bool = True) -> None:
    """Make ``folder`` a run whose driver died: status lost, no duration, no output notebook
    (only the partial one it was writing, when ``partial``)."""
    rec = store.read_raw_record(folder)
    rec.update(status="lost", duration_s=None, ended_at=None, scraps={}, error=None)
    store.write_record(folder, rec, final=True)
    if partial:
        (folder / store.OUTPUT).rename(folder / store.PARTIAL_OUTPUT)
    else:
        (folder / store.OUTPUT).unlink()


@pytest.mark.parametrize("partial", [True, False], ids=["partial", "no-notebook"])
def test_show_of_a_lost_run_names_what_it_has(
    runs_dir: Path, capsys: pytest.CaptureFixture[str], partial: bool
) -> None:
    folder = make_run(runs_dir, name="killme")
    _lose(folder, partial=partial)
    assert main(["show", "killme", "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"run {folder.name}  lost"  # no "(None s)"
    output = [line for line in out if line.startswith("  output:")]
    if partial:
        assert output == [
            f"  output:    {folder / store.PARTIAL_OUTPUT} (partial: the run did not finish "
            "writing it)"
        ]
    else:
        assert output == ["  output:    none (the run wrote no output notebook)"]


@pytest.mark.parametrize(
    ("status", "partial"),
    [("lost", True), ("lost", False), ("failed", None)],
    ids=["lost", "lost-no-notebook", "failed-before-a-glue"],
)
def test_rerun_check_of_a_run_without_scraps_says_there_is_nothing_to_compare(
    runs_dir: Path, capsys: pytest.CaptureFixture[str], status: str, partial: bool | None
) -> None:
    folder = make_run(runs_dir, status=status)
    if partial is not None:
        _lose(folder, partial=partial)
    before = _folders(runs_dir)
    assert main(["rerun", folder.name, "--check", "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert f"run {folder.name} is {status} and recorded no scalar scraps" in err
    assert "nothing to compare with; drop --check to rerun it anyway" in err
    assert _folders(runs_dir) == before  # refused before anything ran


def test_rerun_names(runs_dir: Path) -> None:
    runs_dir.mkdir()
    assert rerun_name({"name": None}, runs_dir) is None
    assert rerun_name({"name": "base"}, runs_dir) == "base-rerun-1"
    make_run(runs_dir, name="base-rerun-1")
    make_run(runs_dir, name="base-rerun-5")
    make_run(runs_dir, name="base-rerun-x")
    make_run(runs_dir, name="other-base-rerun-9")
    assert rerun_name({"name": "base"}, runs_dir) == "base-rerun-6"
    # a rerun's rerun counts on from the original's name; a name that only looks so does not
    assert rerun_name({"name": "base-rerun-1", "rerun_of": "x"}, runs_dir) == "base-rerun-6"
    assert rerun_name({"name": "base-rerun-1"}, runs_dir) == "base-rerun-1-rerun-1"
    assert rerun_name({"name": "my run"}, runs_dir) == "my run-rerun-1"
    long = "n" * 60  # the id keeps 48 characters of a name: the suffix must stay in them
    named = rerun_name({"name": long}, runs_dir)
    assert named is not None and named.endswith("-rerun-1")
    assert store.slug(named) == named and len(named) <= 48
    # a name in another script: its id keeps only "rerun-N", and N still counts on
    assert rerun_name({"name": "日本"}, runs_dir) == "日本-rerun-1"
    make_run(runs_dir, name="日本-rerun-1")
    assert rerun_name({"name": "日本"}, runs_dir) == "日本-rerun-2"


@pytest.mark.kernel
def test_a_rerun_has_a_name_of_its_own_and_the_original_keeps_its_own(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(
        tmp_path / "nb.ipynb",
        b.params("alpha = 0.5"),
        b.code("import scrapbook as sb\nsb.glue('f1', alpha * 2)"),
    )
    rd = ["--runs-dir", str(runs_dir)]
    assert main(["run", str(nb), "--name", "baseline", *rd]) == 0
    (original,) = _folders(runs_dir)
    assert main(["rerun", "baseline", "--check", *rd]) == 0
    assert main(["rerun", "baseline-rerun-1", *rd]) == 0  # a rerun's rerun
    capsys.readouterr()
    first, second = [p for p in _folders(runs_dir) if p != original]
    assert [store.read_record(p)["name"] for p in (first, second)] == [
        "baseline-rerun-1",
        "baseline-rerun-2",
    ]
    assert store.read_record(first)["rerun_of"] == original.name
    assert store.read_record(second)["rerun_of"] == first.name
    assert main(["show", "baseline", *rd]) == 0  # still the original, and only it
    assert capsys.readouterr().out.startswith(f"run {original.name}  ok")
    assert main(["show", "baseline-rerun-2", *rd]) == 0
    assert f"  rerun of:  {first.name}" in capsys.readouterr().out.splitlines()
    assert main(["diff", "baseline", "latest", "--json", *rd]) == 0
    compared = json.loads(capsys.readouterr().out)
    assert (compared["a"], compared["b"]) == (original.name, second.name)


@pytest.mark.kernel
def test_a_rerun_of_a_failed_run_judges_only_what_it_recorded_and_a_lost_run_reruns(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(
        tmp_path / "nb.ipynb",
        b.params("x = 2"),
        b.code(
            "import os, scrapbook as sb\nsb.glue('early', x)\n"
            "if os.path.exists('fail-now'):\n    raise ValueError('boom')\nsb.glue('late', 1)"
        ),
    )
    (tmp_path / "fail-now").touch()
    rd = ["--runs-dir", str(runs_dir)]
    assert main(["run", str(nb), "--name", "flaky", *rd]) == 1
    (tmp_path / "fail-now").unlink()
    capsys.readouterr()
    assert main(["rerun", "flaky", "--check", *rd]) == 0  # 'late' is new, not a difference
    assert capsys.readouterr().out.splitlines()[1].startswith("reproducible")
    lost = tmp_path / "lost-store"
    shutil.copytree(_folders(runs_dir)[0], lost / _folders(runs_dir)[0].name)
    (folder,) = _folders(lost)
    _lose(folder)  # its code is in the partial notebook only
    assert main(["rerun", folder.name, "--runs-dir", str(lost)]) == 0
    assert capsys.readouterr().out.endswith("  ok\n")


@pytest.mark.kernel
def test_a_rerun_keeps_the_registry_provenance_of_the_original(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = b.write(
        tmp_path / "train.ipynb",
        b.params('output_dir = "."'),
        b.code("from pathlib import Path\nPath(output_dir, 'model.joblib').write_text('m')"),
    )
    monitor = b.write(
        tmp_path / "monitor.ipynb",
        b.params('model_dir = ""'),
        b.code(
            "import scrapbook as sb\nfrom pathlib import Path\n"
            "sb.glue('size', len(Path(model_dir, 'model.joblib').read_text()))"
        ),
    )
    rd = ["--runs-dir", str(runs_dir)]
    assert main(["run", str(train), "--name", "m1", *rd]) == 0
    assert main(["promote", "mm", "m1", "--alias", "live", *rd]) == 0
    assert (
        main(["run", str(monitor), "-p", "model_dir", "registry:mm@live", "--name", "mon", *rd])
        == 0
    )
    assert main(["rerun", "mon", "--check", *rd]) == 0
    _, original, again = map(store.read_record, _folders(runs_dir))  # m1, mon, its rerun
    assert original["registry"]["model_dir"]["model"] == "mm"
    assert again["registry"] == original["registry"]
    capsys.readouterr()
    assert main(["show", again["id"], "--lineage", *rd]) == 0
    lineage = capsys.readouterr().out.split("lineage:")[1]
    assert "    model: model_dir=mm@live v1  sha256:" in lineage
    assert f"    {store.resolve_run(runs_dir, 'm1').name}  {train}  code:" in lineage
