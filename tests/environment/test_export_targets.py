"""`env export -o` naming what is no folder: `-`, /dev/null, /dev/stdout, a named pipe get the
one requirements file in place, as every other `-o` does (review6 item 6); a regular file and
the several files of a container recipe are refused with one line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_nb.main import main
from tests.commands.test_output_targets import fifo  # noqa: F401  (fixture)
from tests.results.factory import make_run


@pytest.fixture
def run_id(runs_dir: Path) -> str:
    make_run(runs_dir, packages={"numpy": "2.0.0", "pyyaml": "6.0.2"})
    (folder,) = runs_dir.glob("2*")
    return folder.name


def _export(run_id: str, runs_dir: Path, *args: str) -> list[str]:
    return ["env", "export", run_id, "--runs-dir", str(runs_dir), *args]


def test_a_fifo_gets_the_lock_in_place(
    run_id: str,
    runs_dir: Path,
    fifo: tuple[Path, Callable[[], bytes]],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, read = fifo
    assert main(_export(run_id, runs_dir, "-o", str(path))) == 0
    assert b"numpy==2.0.0\n" in read()
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    assert capsys.readouterr().err == f"mlops-nb: wrote requirements.txt to {path}\n"


@pytest.mark.parametrize("target", ["/dev/null", "/dev/stdout", "/dev/fd/1", "-"])
def test_devices_and_stdout_get_the_lock_in_place(
    run_id: str, runs_dir: Path, tmp_path: Path, target: str
) -> None:
    """In a real process: stdout sent to a file that already holds a line (`>>`)."""
    log = tmp_path / "log.txt"
    log.write_text("EARLIER LINE\n", encoding="utf-8")
    argv = [sys.executable, "-m", "mlops_nb", *_export(run_id, runs_dir, "-o", target)]
    with open(log, "a", encoding="utf-8") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 0, done.stderr
    text = log.read_text(encoding="utf-8")
    if target == "/dev/null":
        assert text == "EARLIER LINE\n"
    else:
        assert text.startswith("EARLIER LINE\n# The environment of run ")
        assert "numpy==2.0.0\n" in text
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    assert done.stderr == (
        "" if target == "-" else f"mlops-nb: wrote requirements.txt to {target}\n"
    )


@pytest.mark.parametrize("fmt", ["dockerfile", "repo2docker"])
@pytest.mark.parametrize("target", ["/dev/null", "-"])
def test_several_files_need_a_folder(
    run_id: str, runs_dir: Path, target: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_export(run_id, runs_dir, "--format", fmt, "-o", target)) == 2
    assert capsys.readouterr().err == (
        f"mlops-nb: error: --format {fmt} writes several files: give -o DIR, not {target}.\n"
    )


def test_a_regular_file_is_refused_and_kept(
    run_id: str, runs_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "reqs.txt"
    target.write_text("mine\n", encoding="utf-8")
    assert main(_export(run_id, runs_dir, "-o", str(target))) == 2
    err = capsys.readouterr().err
    assert err == (
        f"mlops-nb: error: -o {target} is a file: env export -o takes a folder and writes the "
        f"lock into it (to write requirements.txt as {target}: env export RUN > {target}).\n"
    )
    assert target.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize("given", [".", "new/", "new/deeper"])
def test_a_folder_gets_requirements_txt(
    run_id: str,
    runs_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    given: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(_export(run_id, runs_dir, "-o", given)) == 0
    written = Path(given, "requirements.txt")
    assert "numpy==2.0.0" in written.read_text(encoding="utf-8")
    assert capsys.readouterr().err == f"mlops-nb: wrote {written}\n"
