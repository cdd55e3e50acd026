"""Stdout that cannot be written (`> /dev/full`: ENOSPC; an I/O error) is one line on stderr and
exit 2, as grep and diff do, never an "internal error" with exit 3 (review6 item 9). The command
still finishes its work: a run is recorded with its own status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import nbbuild as b
from tests.results.factory import make_run

LINE = "mlops-nb: error: cannot write to stdout: No space left on device.\n"


def _to_dev_full(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    with open("/dev/full", "w") as full:
        return subprocess.run(
            argv, cwd=cwd, stdout=full, stderr=subprocess.PIPE, text=True, timeout=300
        )


@pytest.mark.parametrize(
    "command",
    [
        "collect",
        "collect --format json",
        "collect --format parquet -o -",
        "show latest --json",
        "diff FIRST SECOND",
        "env export latest",
        "env export latest -o /dev/stdout",
        "inspect nb.ipynb",
        "lint bad.ipynb",  # findings (exit 1) that nobody could read: 2
    ],
)
def test_a_full_stdout_is_one_line_and_exit_2(command: str, runs_dir: Path, tmp_path: Path) -> None:
    make_run(runs_dir, params={"C": 1}, scraps={"f1": 0.9}, packages={"numpy": "2.0.0"})
    make_run(runs_dir, params={"C": 2}, scraps={"f1": 0.7}, packages={"numpy": "2.0.0"})
    b.write(tmp_path / "nb.ipynb", b.params("a = 1  # the value"))
    b.write(tmp_path / "bad.ipynb", b.params("a = 1", count=2), b.code("b = a", count=1))
    first, second = sorted(p.name for p in runs_dir.glob("2*"))
    argv = command.replace("FIRST", first).replace("SECOND", second).split()
    done = _to_dev_full([sys.executable, "-m", "mlops_nb", *argv], tmp_path)
    # after the notices that came before (the index built, lint's summary)
    assert (done.returncode, done.stderr.splitlines(keepends=True)[-1]) == (2, LINE)
    assert "internal error" not in done.stderr


def test_the_hook_scripts_too(tmp_path: Path) -> None:
    nb = b.write(tmp_path / "nb.ipynb", b.params("a = 1", count=1), b.code("b = a", count=2))
    entry = str(Path(sys.executable).parent / "mlops-nb-strip")
    done = _to_dev_full([entry, "--check", str(nb)], tmp_path)
    assert (done.returncode, done.stderr) == (2, LINE.replace("mlops-nb:", "mlops-nb-strip:"))


@pytest.mark.kernel
def test_a_run_still_completes_and_is_recorded(runs_dir: Path, tmp_path: Path) -> None:
    nb = b.write(
        tmp_path / "nb.ipynb", b.params("x = 1"), b.code("import scrapbook as sb\nsb.glue('y', x)")
    )
    done = _to_dev_full([sys.executable, "-m", "mlops_nb", "run", str(nb), "--json"], tmp_path)
    assert (done.returncode, done.stderr) == (2, LINE)
    (record,) = runs_dir.glob("2*/run.json")
    data = json.loads(record.read_text(encoding="utf-8"))
    assert (data["status"], data["scraps"]) == ("ok", {"y": 1})


def test_in_process_the_first_failure_is_kept_and_the_rest_dropped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlops_nb import output
    from mlops_nb.error_handler import handle

    def command() -> int:
        output.out("a line")
        output.out_bytes(b"PAR1")
        output.out("and another")
        return 1  # findings nobody could read

    def interrupted() -> int:
        output.out("a line")
        raise KeyboardInterrupt

    with open("/dev/full", "w") as full:
        monkeypatch.setattr(sys, "stdout", full)
        assert handle("mlops-nb", command) == 2
        assert capsys.readouterr().err == LINE
        assert handle("mlops-nb", interrupted) == 130  # an interruption says so, not this
        assert capsys.readouterr().err == "mlops-nb: interrupted\n"
        assert output.take_stdout_failure() is None  # handle took it
    other = open("/dev/full", "w")  # noqa: SIM115  (closing it fails too: its buffer is full)
    with pytest.raises(OSError, match="No space left"):
        output.out("a file that is not stdout", stream=other)
    with pytest.raises(OSError, match="No space left"):
        other.close()


@pytest.mark.parametrize(
    ("command", "code"),
    [
        ("collect", 0),  # the notice that the index was built has nowhere to go
        ("strip nothere.ipynb", 2),  # an error message that cannot be shown: still exit 2
        ("lint bad.ipynb", 1),
        ("show no-such-run", 2),
    ],
)
def test_a_full_stderr_keeps_the_exit_code(
    command: str, code: int, runs_dir: Path, tmp_path: Path
) -> None:
    """Diagnostics that cannot be written are dropped; the exit code still tells."""
    make_run(runs_dir, params={"C": 1}, scraps={"f1": 0.9})
    b.write(tmp_path / "bad.ipynb", b.params("a = 1", count=2), b.code("b = a", count=1))
    argv = [sys.executable, "-m", "mlops_nb", *command.split()]
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            argv, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=full, timeout=300
        )
    assert done.returncode == code


@pytest.mark.parametrize(
    "command",
    ["collect", "collect --format csv", "collect --format parquet -o -", "show latest --json"],
)
def test_a_closed_stdout_is_one_line_and_exit_2(
    command: str, runs_dir: Path, tmp_path: Path
) -> None:
    """Started with stdout closed (`>&-`): Python has no sys.stdout and print() drops the text
    without a word; as `ls >&-` does, that is a write error (EBADF), exit 2."""
    make_run(runs_dir, params={"C": 1}, scraps={"f1": 0.9})
    argv = [sys.executable, "-m", "mlops_nb", *command.split()]
    done = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", *argv],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stderr.splitlines()[-1]) == (
        2,
        "mlops-nb: error: cannot write to stdout: Bad file descriptor.",
    )
