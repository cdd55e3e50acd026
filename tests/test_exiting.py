"""The command line ends without tearing the interpreter down, but only after what a normal exit
does first: non-daemon threads joined, atexit callbacks run, standard streams flushed, the exit
code kept; the runs index is left without its write-ahead log, as before."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests import nbbuild as b


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )


def test_exit_now_joins_threads_runs_atexit_flushes_and_keeps_the_code() -> None:
    done = _python(
        """
        import atexit, sys, threading, time
        from mlops_nb.exiting import exit_now
        atexit.register(lambda: print("atexit ran"))
        threading.Thread(target=lambda: (time.sleep(0.2), print("thread done"))).start()
        print("x" * 100_000)  # more than a pipe's buffer: still all there
        sys.stderr.write("on stderr")
        exit_now(3)
        """
    )
    assert done.returncode == 3
    assert done.stdout.splitlines() == ["x" * 100_000, "thread done", "atexit ran"]
    assert done.stderr == "on stderr"


def test_an_atexit_callback_that_raises_is_reported_and_the_code_kept() -> None:
    done = _python(
        """
        import atexit
        from mlops_nb.exiting import exit_now
        atexit.register(lambda: 1 / 0)
        exit_now(0)
        """
    )
    assert done.returncode == 0
    assert "ZeroDivisionError" in done.stderr


@pytest.mark.kernel
@pytest.mark.parametrize("how", [["-m", "mlops_nb"], ["mlops-nb"]], ids=["module", "script"])
def test_the_cli_keeps_exit_codes_and_leaves_no_write_ahead_log(
    tmp_path: Path, how: list[str]
) -> None:
    nb = b.write(tmp_path / "nb.ipynb", b.params("x = 1"), b.code("assert x < 2"))
    (tmp_path / "grid.yaml").write_text("x: [0, 1]\n")
    cmd = (
        [sys.executable, *how]
        if how[0] == "-m"
        else [str(Path(sys.executable).parent / "mlops-nb")]
    )
    runs = str(tmp_path / "runs")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cmd, *args, "--runs-dir", runs], capture_output=True, text=True, timeout=120
        )

    def index_files() -> list[str]:
        return sorted(p.name for p in (tmp_path / "runs").glob("index.sqlite*"))

    assert cli("sweep", str(nb), "--grid", str(tmp_path / "grid.yaml"), "--quiet").returncode == 0
    assert index_files() == ["index.sqlite"]  # the pool's workers wrote it
    assert cli("run", str(nb), "-p", "x", "5").returncode == 1  # the notebook failed
    assert cli("show", "no-such-run").returncode == 2
    listed = cli("collect", "--format", "csv")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 4  # header + 3 runs
    assert index_files() == ["index.sqlite"]


def test_a_profiler_still_gets_to_write_its_figures(tmp_path: Path) -> None:
    stats = tmp_path / "cli.prof"
    nb = b.write(tmp_path / "nb.ipynb", b.params("x = 1"))
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "mlops_nb", "lint", str(nb)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert stats.stat().st_size > 0


def test_a_process_started_without_stdout_exits_with_its_code(tmp_path: Path) -> None:
    nb = b.write(tmp_path / "nb.ipynb", b.params("x = 1"))
    done = subprocess.run(
        [sys.executable, "-m", "mlops_nb", "lint", str(nb)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        pass_fds=(),
        preexec_fn=lambda: __import__("os").close(1),
    )
    assert (done.returncode, done.stderr) == (0, "")
