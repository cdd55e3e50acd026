"""One run's lifecycle at its edges, with real kernels: stopped by its caller (a pipeline, a sweep),
Ctrl-C pressed twice, an index that cannot be updated (the run is still recorded), stream output
past the limit."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

import mlops_nb
from mlops_nb.errors import RunInterrupted
from mlops_nb.execution import runner
from mlops_nb.store import index
from mlops_nb.store import runs as store
from tests import nbbuild as b

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_new_kernels")]


def waiting(folder: Path) -> Path:
    """A notebook whose second cell says it started (a marker file), then waits a minute."""
    return b.write(
        folder / "wait.ipynb",
        b.params(f"marker = {str(folder / 'started')!r}"),
        b.code("x = 1"),
        b.code("import time\nopen(marker, 'w').close()\ntime.sleep(60)"),
    )


def when_started(folder: Path, then: object) -> threading.Thread:
    """Calls ``then()`` from a thread once the notebook's waiting cell has started."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while not (folder / "started").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for a file the kernel writes: not a fixed wait
        then()  # type: ignore[operator]

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def test_the_caller_cancels_a_run(tmp_path: Path, runs_dir: Path) -> None:
    spec = runner.prepare(waiting(tmp_path), runs_dir=runs_dir)
    cancel = threading.Event()
    t0 = time.monotonic()
    when_started(tmp_path, cancel.set)
    folder = runner.execute_run(spec, handle_signals=False, cancel=cancel)
    rec = store.read_record(folder)
    assert rec["status"] == "interrupted" and rec["error"]["cell_index"] == 2
    assert time.monotonic() - t0 < 45
    assert (folder / store.OUTPUT).is_file()


def test_ctrl_c_pressed_twice_still_records(tmp_path: Path, runs_dir: Path) -> None:
    def twice() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)

    when_started(tmp_path, twice)
    with pytest.raises(RunInterrupted, match="recorded as 'interrupted'"):
        mlops_nb.run(waiting(tmp_path), runs_dir=runs_dir)
    (rec,) = store.iter_records(runs_dir)
    assert rec["status"] == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_a_broken_index_does_not_fail_the_run(
    tmp_path: Path, runs_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (runs_dir / index.INDEX).mkdir(parents=True)  # not a database: every update fails
    nb = b.write(tmp_path / "ok.ipynb", b.params("x = 1"), b.code("y = x"))
    run = mlops_nb.run(nb, runs_dir=runs_dir)
    assert run.status == "ok" and store.read_record(run.path)["status"] == "ok"
    assert "runs index not updated" in caplog.text


def test_stream_output_past_the_limit_is_cut_and_recorded(
    tmp_path: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_NB_OUTPUT_LIMIT", "2k")
    nb = b.write(tmp_path / "loud.ipynb", b.params("n = 5000"), b.code("print('x' * n)"))
    run = mlops_nb.run(nb, runs_dir=runs_dir)
    assert run.status == "ok"
    (cut,) = run.record["output_cut"]
    assert cut["stream"] == "stdout" and cut["file"].startswith("output-streams/")
    assert (run.path / cut["file"]).read_text().count("x") == 5000  # kept whole, beside the run
