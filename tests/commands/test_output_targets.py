"""`-o` naming something that is not a regular file: a FIFO, /dev/null, /dev/stdout, and `-`
(review5 item 1). Such a target is written in place, never renamed over; `-` is stdout."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from mlops_nb.main import main
from tests import nbbuild as b
from tests.results.factory import make_run


@pytest.fixture
def store(runs_dir: Path) -> Path:
    make_run(runs_dir, params={"C": 1}, scraps={"f1": 0.9}, packages={"numpy": "2.0.0"})
    make_run(runs_dir, params={"C": 2}, scraps={"f1": 0.7})
    return runs_dir


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[tuple[Path, Callable[[], bytes]]]:
    """A named pipe and a function giving what a reader thread read from it.

    The fixture holds the pipe open read-write, so neither end blocks on opening and the
    reader sees the end only when that is closed: a command that replaced the pipe instead of
    writing to it leaves the reader with nothing, at once (no hang)."""
    path = tmp_path / "out.ipynb"  # a name every command takes, `new` included
    os.mkfifo(path)
    keep = os.open(path, os.O_RDWR)
    got: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as f:
            got.append(f.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def result() -> bytes:
        os.close(keep)
        reader.join(timeout=60)
        return got[0]

    yield path, result
    if reader.is_alive():
        os.close(keep)
        reader.join(timeout=60)


def _pipeline(folder: Path) -> None:
    (folder / "nb.ipynb").write_text(json.dumps(b.notebook(b.params("x = 1"))), encoding="utf-8")
    (folder / "p.yaml").write_text("name: p\nsteps:\n  a: {notebook: nb.ipynb}\n")


def _is_fifo(path: Path) -> bool:
    return stat.S_ISFIFO(os.lstat(path).st_mode)


COMMANDS = {
    "collect-csv": (["collect", "--format", "csv"], b"scraps.f1"),
    "collect-table": (["collect"], b"scraps.f1"),
    "collect-json": (["collect", "--format", "json"], b'"scraps.f1"'),
    "collect-parquet": (["collect", "--format", "parquet"], b"PAR1"),
    "report": (["report", "--no-cache"], b"<html"),
}


@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
def test_a_fifo_is_written_in_place_and_stays_a_fifo(
    store: Path, fifo: tuple[Path, Callable[[], bytes]], command: str
) -> None:
    path, read = fifo
    args, marker = COMMANDS[command]
    assert main([*args, "--runs-dir", str(store), "-o", str(path)]) == 0
    assert marker in read()
    assert _is_fifo(path), "the FIFO was replaced by a regular file"


def test_a_fifo_is_written_in_place_by_pipeline_export(
    tmp_path: Path, fifo: tuple[Path, Callable[[], bytes]]
) -> None:
    _pipeline(tmp_path)
    path, read = fifo
    args = ["pipeline", "export", "--format", "argo", str(tmp_path / "p.yaml"), "-o", str(path)]
    assert main(args) == 0
    assert b"kind: Workflow" in read()
    assert _is_fifo(path)


def test_dvc_export_to_a_fifo_is_refused_it_writes_two_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _pipeline(tmp_path)
    os.mkfifo(tmp_path / "dvc.pipe")
    for target in (str(tmp_path / "dvc.pipe"), "-"):
        args = ["pipeline", "export", "--format", "dvc", str(tmp_path / "p.yaml"), "-o", target]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"mlops-nb: error: -o {target}: dvc writes dvc.yaml and params")
    assert _is_fifo(tmp_path / "dvc.pipe")
    assert not (tmp_path / "params.yaml").exists()


def test_dev_null_stays_a_device(store: Path, fifo: tuple[Path, Callable[[], bytes]]) -> None:
    # First make sure, on a FIFO, that this code writes in place: if it renamed, running it on
    # /dev/null as root would replace the machine's /dev/null
    path, read = fifo
    assert main(["collect", "--format", "csv", "--runs-dir", str(store), "-o", str(path)]) == 0
    read()
    assert _is_fifo(path)
    before = os.stat(os.devnull)
    for args in (["collect", "--format", "csv"], ["report", "--no-cache"]):
        assert main([*args, "--runs-dir", str(store), "-o", os.devnull]) == 0
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev, after.st_mode) == (
        before.st_ino,
        before.st_rdev,
        before.st_mode,
    )


def test_dev_stdout_is_the_commands_stdout(store: Path) -> None:
    args = ["collect", "--format", "csv", "--runs-dir", str(store), "-o", "/dev/stdout"]
    done = subprocess.run(
        [sys.executable, "-m", "mlops_nb", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("id,")
    assert len(done.stdout.splitlines()) == 3


@pytest.mark.parametrize("fmt", ["csv", "table", "json"])
def test_dash_is_stdout_for_collect(
    store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["collect", "--format", fmt, "--runs-dir", str(store), "-o", "-"]) == 0
    got = capsys.readouterr()
    assert "f1" in got.out
    assert "written" not in got.err
    assert not (tmp_path / "-").exists()


def test_dash_is_stdout_for_parquet_bytes(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer, encoding="utf-8"))
    assert main(["collect", "--format", "parquet", "--runs-dir", str(store), "-o", "-"]) == 0
    assert pd.read_parquet(io.BytesIO(buffer.getvalue()))["params.C"].tolist() == [1, 2]
    assert not (tmp_path / "-").exists()


def test_dash_is_stdout_for_report_and_env_export(
    store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--no-cache", "--runs-dir", str(store), "-o", "-"]) == 0
    page = capsys.readouterr().out
    assert page.lstrip().startswith("<!DOCTYPE html>") and "report written" not in page
    first = sorted(p.name for p in store.iterdir() if (p / "environment.json").exists())[0]
    assert main(["env", "export", first, "--runs-dir", str(store), "-o", "-"]) == 0
    assert "numpy==2.0.0" in capsys.readouterr().out
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("command", ["collect", "report", "show", "env export", "pipeline export"])
def test_help_says_dash_is_stdout(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([*command.split(), "--help"])
    assert "'-'" in " ".join(capsys.readouterr().out.split())


def test_a_regular_file_is_still_replaced_atomically(tmp_path: Path) -> None:
    from mlops_nb.notebook.io import write_user_file

    target = tmp_path / "out.csv"
    target.write_text("old")
    inode = target.stat().st_ino
    write_user_file(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_ino != inode  # a new file renamed into place
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_bytes_on_a_text_only_stdout_and_on_a_closed_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlops_nb import output

    text = io.StringIO()
    monkeypatch.setattr(sys, "stdout", text)
    output.out_bytes("é\n".encode())
    assert text.getvalue() == "é\n"
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    with os.fdopen(write_fd, "w") as closed:
        monkeypatch.setattr(sys, "stdout", closed)
        output.out_bytes(b"PAR1" * 100_000)  # would raise BrokenPipeError without the guard
        assert os.readlink(f"/proc/self/fd/{closed.fileno()}") == os.devnull


def test_show_html_to_a_fifo_writes_in_place_and_changes_no_mode(
    store: Path, fifo: tuple[Path, Callable[[], bytes]]
) -> None:
    path, read = fifo
    os.chmod(path, 0o600)
    assert main(["show", "latest", "--html", "--runs-dir", str(store), "-o", str(path)]) == 0
    assert b"<html" in read()
    assert _is_fifo(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # a page file is 0644; a FIFO keeps its


def test_new_with_force_writes_into_a_fifo(fifo: tuple[Path, Callable[[], bytes]]) -> None:
    path, read = fifo
    assert main(["new", "canary", str(path), "--force"]) == 0
    assert b'"cells"' in read()
    assert _is_fifo(path)


@pytest.mark.kernel
def test_a_metrics_file_that_is_a_fifo_is_written_in_place(
    tmp_path: Path, runs_dir: Path, fifo: tuple[Path, Callable[[], bytes]]
) -> None:
    path, result = fifo
    nb = b.write(
        tmp_path / "m.ipynb",
        b.params("x = 1"),
        b.code("import scrapbook as sb\nsb.glue('f1', 0.5)"),
    )
    assert main(["run", str(nb), "--metrics-file", str(path)]) == 0
    assert json.loads(result()) == {"f1": 0.5}
    assert _is_fifo(path)


def test_dev_stdout_redirected_to_a_file_is_appended_to_not_truncated(
    store: Path, tmp_path: Path
) -> None:
    log = tmp_path / "log.txt"
    log.write_text("kept line\n")
    with open(log, "a") as out:
        done = subprocess.run(
            [sys.executable, "-m", "mlops_nb", "collect", "--format", "csv", "-o", "/dev/stdout"],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    lines = log.read_text().splitlines()
    assert lines[0] == "kept line" and lines[1].startswith("id,")
    assert len([line for line in lines if line.startswith("20")]) == 2  # both runs, whole
