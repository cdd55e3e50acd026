"""What papermill users keep asking for: --log-output, --prepare-only, --allow-errors; and
what a new user tripped on: --reuse says it reused, inspect spells defaults as -p takes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.main import main
from tests import nbbuild as b


@pytest.fixture
def nb(tmp_path: Path) -> Path:
    return b.write(
        tmp_path / "talk.ipynb",
        b.params("n = 2\nflag = True\nlabel = None  # optional label\nname = 'x'"),
        b.code("print('hello', n)"),
        b.code("n * 21"),
        b.code("import sys\nprint('to stderr', file=sys.stderr)"),
    )


@pytest.mark.kernel
def test_log_output_streams_cell_output(
    nb: Path, runs_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(nb), "-p", "n", "3", "--log-output", "--runs-dir", str(runs_dir)]) == 0
    out, err = capfd.readouterr()
    lines = out.splitlines()
    assert "hello 3" in lines
    assert "63" in lines
    assert (
        lines.index("hello 3")
        < lines.index("63")
        < next(i for i, line in enumerate(lines) if line.startswith("run "))
    )  # streamed while running, before the summary
    assert "to stderr" in err


@pytest.mark.kernel
def test_log_output_of_a_run_stopped_by_its_timeout_shows_the_notebooks_errors_only(
    tmp_path: Path, runs_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The KeyboardInterrupt the timeout raises in the kernel is how the run is stopped, not the
    notebook's error: the summary says timeout; a bare "KeyboardInterrupt: " line said nothing."""
    slow = b.write(
        tmp_path / "slow.ipynb",
        b.code("print('started', flush=True)"),
        b.code("import time\ntime.sleep(60)"),
    )
    assert (
        main(["run", str(slow), "--timeout", "3", "--log-output", "--runs-dir", str(runs_dir)]) == 1
    )
    out, err = capfd.readouterr()
    assert "started" in out and "timeout" in out + err
    assert "KeyboardInterrupt" not in out + err
    bad = b.write(tmp_path / "bad.ipynb", b.code("raise ValueError('own error')"))
    assert main(["run", str(bad), "--log-output", "--runs-dir", str(runs_dir)]) == 1
    assert "ValueError: own error" in capfd.readouterr().err


@pytest.mark.kernel
def test_without_log_output_nothing_is_streamed(
    nb: Path, runs_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(nb), "--runs-dir", str(runs_dir)]) == 0
    out, err = capfd.readouterr()
    assert "hello" not in out
    assert "to stderr" not in err


@pytest.mark.kernel
def test_allow_errors_runs_past_failing_cells(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(
        tmp_path / "bad.ipynb",
        b.params("x = 1"),
        b.code("raise ValueError('first')"),
        b.code("print('still running')"),
        b.code("{}['missing']"),
        b.code("import scrapbook as sb\nsb.glue('after', 42)"),
    )
    code = main(["run", str(nb), "--allow-errors", "--runs-dir", str(runs_dir), "--json"])
    assert code == 1
    record = json.loads(capsys.readouterr().out)
    assert record["status"] == "failed"
    assert record["error"]["ename"] == "ValueError"
    assert [(e["ename"], e["evalue"]) for e in record["errors"]] == [
        ("ValueError", "first"),
        ("KeyError", "'missing'"),
    ]
    assert record["errors"][0]["cell_index"] == record["error"]["cell_index"]
    assert record["scraps"] == {"after": 42}  # the cells after the errors ran
    # without the flag the run stops at the first error
    assert main(["run", str(nb), "--runs-dir", str(runs_dir), "--json"]) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["scraps"] == {}
    assert "errors" not in record


def test_prepare_only_writes_the_parameterized_notebook(
    nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["run", str(nb), "-p", "n", "7", "--prepare-only", "--runs-dir", str(runs_dir)]) == 0
    )
    out = capsys.readouterr().out
    (path,) = (runs_dir / "prepared").glob("talk-*.ipynb")
    assert str(path) in out and "not executed" in out
    cells = json.loads(path.read_text())["cells"]
    injected = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1
    assert "n = 7" in "".join(injected[0]["source"])
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")
    assert not [p for p in runs_dir.iterdir() if (p / "run.json").exists()]  # no run recorded
    assert main(["collect", "--runs-dir", str(runs_dir)]) == 0  # the store stays readable
    # a bad parameter: one line, exit 2, nothing written
    assert (
        main(["run", str(nb), "-p", "nope", "1", "--prepare-only", "--runs-dir", str(runs_dir)])
        == 2
    )
    assert len(list((runs_dir / "prepared").iterdir())) == 1


def test_prepare_only_json_prints_json(
    nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", str(nb), "-p", "n", "7", "--prepare-only", "--runs-dir", str(runs_dir)]
    assert main([*args, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)  # JSON, and nothing else
    (path,) = (runs_dir / "prepared").glob("talk-*.ipynb")
    assert printed == {"notebook": str(nb), "prepared": str(path), "params": {"n": 7}}
    assert "n = 7" in path.read_text()
    assert not [p for p in runs_dir.iterdir() if (p / "run.json").exists()]


@pytest.mark.kernel
def test_reuse_says_it_reused_and_which_run(
    nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(nb), "--runs-dir", str(runs_dir)]) == 0
    first = capsys.readouterr().out
    assert "reused run" not in first
    run_id = first.split()[1]
    assert main(["run", str(nb), "--reuse", "--runs-dir", str(runs_dir)]) == 0
    again = capsys.readouterr().out.splitlines()
    assert again[0].startswith(f"reused run {run_id}: same code, parameters and inputs")
    assert again[1].startswith(f"run {run_id}  ok")


def test_inspect_spells_defaults_as_python(nb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(nb)]) == 0
    rows = {line.split()[0]: line.split()[2] for line in capsys.readouterr().out.splitlines()[3:]}
    assert rows == {"n": "2", "flag": "True", "label": "None", "name": "'x'"}
