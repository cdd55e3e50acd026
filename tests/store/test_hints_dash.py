"""A hint whose path starts with ``-`` can be pasted (review4 item 10): ``shlex.join`` quotes for
the shell, not for the command, which read ``--runs-dir -st`` as a flag without its value."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from mlops_nb.main import build_parser, main
from mlops_nb.pipeline import hints as pipeline_hints
from mlops_nb.pipeline import spec
from mlops_nb.store import hints
from tests import nbbuild as b
from tests.results.factory import make_run


@pytest.fixture
def dashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder holds a store ``-st`` with one run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_NB_RUNS_DIR")
    make_run(tmp_path / "-st", name="only")
    return tmp_path


def _pasted(capsys: pytest.CaptureFixture[str], command: str) -> tuple[int, str]:
    words = shlex.split(command)  # what the shell hands the command
    assert words[0] == "mlops-nb"
    code = main(words[1:])
    got = capsys.readouterr()
    return code, got.out + got.err


def test_the_listing_hint_of_an_unknown_run_works_pasted(
    dashed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", "nosuch", "--runs-dir=-st"]) == 2
    hint = re.search(r"List runs with `([^`]+)`", capsys.readouterr().err)
    assert hint and hint[1] == "mlops-nb collect --runs-dir ./-st"
    code, out = _pasted(capsys, hint[1])
    assert code == 0 and "only" in out, out


def test_a_pipeline_file_and_store_starting_with_a_dash_work_pasted(
    dashed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b.write(dashed / "a.ipynb", b.params("n: int = 1"), b.code("pass"))
    (dashed / "-p.yaml").write_text("name: dash\nsteps:\n  a: {notebook: a.ipynb}\n")
    pipeline = spec.load(Path("-p.yaml"))
    status = pipeline_hints.command(pipeline, "status", runs_dir=Path("-st"))
    assert status == "mlops-nb pipeline status ./-p.yaml --runs-dir ./-st"
    code, out = _pasted(capsys, status)
    assert code == 0 and "a  stale  (never run)" in out, out


def test_the_ls_hint_of_an_unknown_pipeline_works_in_a_shell(dashed: Path) -> None:
    from mlops_nb.errors import UsageError
    from mlops_nb.store.names import check_named

    (dashed / "-st" / "pipelines" / "etl").mkdir(parents=True)
    with pytest.raises(UsageError) as e:
        check_named(Path("-st"), pipeline="nosuch")
    listing = re.search(r"list them: (ls [^)]+)\)", e.value.message)
    assert listing and listing[1] == "ls ./-st/pipelines"
    done = subprocess.run(["sh", "-c", listing[1]], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "etl\n"), done.stderr


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["--experiment", "-x"], ["--experiment=-x"]),
        (["--project", "-p", "--mode", "offline"], ["--project=-p", "--mode", "offline"]),
        (["--logdir", "/abs/tb"], ["--logdir", "/abs/tb"]),
    ],
)
def test_an_option_value_starting_with_a_dash_stays_the_options_value(
    dashed: Path, words: list[str], expected: list[str]
) -> None:
    printed = hints.command("export", "mlflow", "RUN", *words, runs_dir="-st")
    argv = shlex.split(printed)
    assert argv == ["mlops-nb", "export", "mlflow", "RUN", *expected, "--runs-dir", "./-st"]
    args = build_parser().parse_args(argv[1:])  # argparse reads it as meant
    assert args.runs_dir == "./-st"
    given = dict(zip(words[::2], words[1::2], strict=True))
    for flag, value in given.items():
        assert getattr(args, flag[2:].replace("-", "_")) == value
