"""A signal handler that raises while ``execute_run`` waits for its execution thread (a third
Ctrl-C in a serial sweep, a sweep worker whose driver died; a sweep worker's SIGTERM did until
review7 L4) stops the run as a stop does: the kernel is interrupted and shut down by the execution thread (no "still alive
after the run" kill under it), its socket and connection files are removed, the run is recorded
``interrupted`` and the exception goes on to the caller (review7 L4).

The cause: a ``Thread.join`` interrupted that way marks a running thread as ended (CPython
gh-90882, Python <= 3.12), so the runner must not learn the end of its thread from it."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path
from types import FrameType

import pytest

from mlops_nb.execution import runner
from mlops_nb.store import runs as store
from tests.execution.test_run_lifecycle import waiting, when_started

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_new_kernels")]


def _raise(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def test_a_raising_handler_records_and_leaves_nothing(
    tmp_path: Path,
    runs_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tmp = tmp_path / "tmp"  # where the kernel's sockets and connection file go
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    spec = runner.prepare(waiting(tmp_path), runs_dir=runs_dir)
    before = signal.signal(signal.SIGTERM, _raise)
    begun: list[Path] = []
    try:
        when_started(tmp_path, lambda: os.kill(os.getpid(), signal.SIGTERM))
        with pytest.raises(KeyboardInterrupt):
            runner.execute_run(spec, handle_signals=False, on_begin=begun.append)
    finally:
        signal.signal(signal.SIGTERM, before)
    rec = store.read_record(begun[0])
    assert rec["status"] == "interrupted" and rec["error"]["cell_index"] == 2
    assert "still alive" not in caplog.text
    assert "execution thread still busy" not in caplog.text
    assert sorted(p.name for p in tmp.iterdir()) == []
