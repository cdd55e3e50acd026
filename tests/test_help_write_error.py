"""Help and version text that cannot be written (`--help > /dev/full`, `--version >&-`) is one
line on stderr and exit 2, as every other stdout write error is (tests/test_stdout_write_error.py)
and as GNU tools do; argparse alone ignores the error and exits 0 (review7 L5). Every parser
of the product: `mlops-nb`, its commands and their actions, and the hook scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlops_nb.main import main

FULL = "error: cannot write to stdout: No space left on device.\n"
CLOSED = "error: cannot write to stdout: Bad file descriptor.\n"
BIN = Path(sys.executable).parent
ASKS = [
    ("mlops-nb", "--help"),
    ("mlops-nb", "-h"),
    ("mlops-nb", "--version"),
    ("mlops-nb", "collect --help"),
    ("mlops-nb", "pipeline run --help"),
    ("mlops-nb-strip", "--help"),
    ("mlops-nb-hook", "-h"),
]


def _argv(script: str, args: str) -> list[str]:
    return [str(BIN / script), *args.split()]


@pytest.mark.parametrize(("script", "args"), ASKS, ids=[f"{s} {a}" for s, a in ASKS])
def test_help_to_a_full_stdout_is_one_line_and_exit_2(script: str, args: str) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            _argv(script, args), stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert (done.returncode, done.stderr) == (2, f"{script}: {FULL}")


@pytest.mark.parametrize(("script", "args"), ASKS[:4], ids=[a for _, a in ASKS[:4]])
def test_help_to_a_closed_stdout_is_one_line_and_exit_2(script: str, args: str) -> None:
    """argparse writes help to stderr when stdout is closed; `ls --help >&-` writes nothing."""
    done = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", *_argv(script, args)],
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (2, f"{script}: {CLOSED}")


def test_help_that_is_read_and_usage_errors_are_unchanged(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as ok:
        main(["collect", "--help"])
    assert ok.value.code == 0
    shown = capsys.readouterr()
    assert shown.out.startswith("usage: mlops-nb collect") and shown.err == ""
    with pytest.raises(SystemExit) as bad:
        main(["collect", "--no-such-flag"])
    assert bad.value.code == 2
    shown = capsys.readouterr()
    assert shown.out == "" and "unrecognized arguments: --no-such-flag" in shown.err
    with open("/dev/full", "w") as full:
        monkeypatch.setattr(sys, "stdout", full)
        with pytest.raises(SystemExit) as failed:
            main(["--version"])
    assert failed.value.code == 2
    assert capsys.readouterr().err == f"mlops-nb: {FULL}"


def test_help_that_is_read_exits_0() -> None:
    done = subprocess.run(_argv("mlops-nb", "--help"), capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("usage: mlops-nb") and "collect" in done.stdout


def test_a_current_folder_removed_is_one_line(tmp_path: Path) -> None:
    """A command started in a folder that was removed says so (review8 L4: an internal error)."""
    gone = tmp_path / "gone"
    gone.mkdir()
    code = (
        "import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); "
        "from mlops_nb.main import main; sys.exit(main(['report', '--runs-dir', sys.argv[2]]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(gone), str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "current folder no longer exists" in proc.stderr
