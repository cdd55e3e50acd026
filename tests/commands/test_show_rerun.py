"""``show`` and ``rerun`` at the command line, on recorded runs (no kernel): every section of the
summary, the options that go together, the rerun tolerance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.store import runs as store
from tests import nbbuild as b
from tests.results.factory import make_run


def test_show_prints_every_section(runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_run(
        runs_dir,
        params={"C": 0.5, "output_dir": "/x"},
        scraps={"f1": 0.912345678},
        name="base",
        status="failed",
        inputs={"data.csv": {"sha256": "a" * 64, "size": 12, "param": "path"}},
        git={"commit": "abc123", "branch": "main", "dirty": True},
    )
    rec = store.read_record(folder)
    rec["resources"] = {"peak_rss_bytes": 150 * 2**20, "cpu_seconds": 1.25}
    rec["artifacts"] = {"model.pkl": {"sha256": "b" * 64, "size": 34}}
    store.write_record(folder, rec, final=True)
    assert main(["show", folder.name, "--runs-dir", str(runs_dir), "--lineage"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"run {folder.name}  failed  (")
    assert "  name:      base" in out and "  notebook:  train.ipynb" in out
    assert "  params:    C=0.5" in out  # output_dir is the run's own folder: not a parameter
    assert "  scraps:    f1=0.912346" in out
    assert "  error:     ValueError: boom" in " ".join(out)
    assert "  git:       abc123 on main (dirty)" in out
    assert "  python:    3.11 on None" in out
    assert "  kernel:    peak 150 MiB, 1.25 s CPU" in out
    assert f"  input:    data.csv  sha256:{'a' * 12}  12 B" in out
    assert f"  artifact: model.pkl  sha256:{'b' * 12}  34 B" in out
    assert "lineage:" in out
    assert main(["show", folder.name, "--runs-dir", str(runs_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == store.read_record(folder)


@pytest.mark.parametrize("flags", [["--no-input"], ["-o", "page.html"]])
def test_show_html_options_need_html(
    runs_dir: Path, capsys: pytest.CaptureFixture[str], flags: list[str]
) -> None:
    folder = make_run(runs_dir)
    assert main(["show", folder.name, "--runs-dir", str(runs_dir), *flags]) == 2
    assert "--no-input and -o go with --html" in capsys.readouterr().err


@pytest.mark.parametrize("rtol", ["-1", "nan", "inf", "x"])
def test_rerun_tolerance_is_a_number_from_zero(
    runs_dir: Path, capsys: pytest.CaptureFixture[str], rtol: str
) -> None:
    folder = make_run(runs_dir)
    with pytest.raises(SystemExit) as e:
        main(["rerun", folder.name, "--runs-dir", str(runs_dir), "--rtol", rtol])
    assert e.value.code == 2
    assert f"argument --rtol: must be a number >= 0, got {rtol!r}" in capsys.readouterr().err
    assert [p.name for p in runs_dir.iterdir() if (p / store.RECORD).exists()] == [folder.name]


@pytest.mark.kernel
def test_rerun_check_says_what_is_not_reproducible(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(
        tmp_path / "rand.ipynb",
        b.params("fail = False"),
        b.code(
            "import os, random\nimport scrapbook as sb\n"
            "sb.glue('draw', random.random())\nsb.glue('fixed', 1)\n"
            "if fail or os.path.exists('fail-now'):\n    raise ValueError('boom')"
        ),
    )
    assert main(["run", str(nb), "--runs-dir", str(runs_dir)]) == 0
    (first,) = [p.name for p in runs_dir.iterdir() if (p / store.RECORD).exists()]
    capsys.readouterr()
    assert main(["rerun", first, "--runs-dir", str(runs_dir), "--check"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"rerun of {first}: run ") and out[0].endswith("  ok")
    assert out[1] == "NOT reproducible: 1 scrap(s) differ"
    assert any("draw" in line for line in out[2:])
    assert not any("fixed" in line for line in out[2:])
    assert main(["rerun", first, "--runs-dir", str(runs_dir)]) == 0  # no --check: ran, ok
    capsys.readouterr()
    (tmp_path / "fail-now").touch()  # the rerun's kernel runs in the notebook's folder
    assert main(["rerun", first, "--runs-dir", str(runs_dir), "--check"]) == 1
    assert capsys.readouterr().out.splitlines()[-1].endswith("  failed")
