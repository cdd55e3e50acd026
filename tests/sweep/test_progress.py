"""Sweep progress: lines for CI logs, a bar on a terminal, nothing when quiet."""

from __future__ import annotations

import pytest

from mlops_nb.sweep.progress import Bar, Finished, Lines, Silent, choose

OK = Finished("ok", "run-1", {"lr": 0.1, "opt": "adam"}, 1.25)
FAILED = Finished("failed", "run-2", {"lr": 1.0}, None, "ValueError: boom in cell 2")
NOT_RECORDED = Finished("failed", None, {"lr": 2.0}, error="worker died")


def test_lines_one_per_finished_run(capsys: pytest.CaptureFixture[str]) -> None:
    show = Lines()
    show.start(5, 2)
    show.started(1)
    for run in (OK, FAILED, NOT_RECORDED):
        show.finished(run)
    show.close()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "[2/5] already done (resumed)",
        "[3/5] ok          run-1  lr=0.1 opt='adam'  (1.2 s)",
        "[4/5] failed      run-2  lr=1.0  ValueError: boom in cell 2",
        "[5/5] failed      -  lr=2.0  worker died",
    ]


def test_lines_say_nothing_when_nothing_was_done(capsys: pytest.CaptureFixture[str]) -> None:
    Lines().start(3, 0)
    assert capsys.readouterr().err == ""


def test_bar_counts_and_reports_failures(capsys: pytest.CaptureFixture[str]) -> None:
    show = Bar()
    show.start(3, 1)
    show.started(2)
    show.finished(OK)
    show.finished(FAILED)
    assert (show.ok, show.failed, show.running) == (1, 1, 2)
    assert show.bar.n == 3
    show.close()
    err = capsys.readouterr().err
    assert "failed: run-2  lr=1.0  ValueError: boom in cell 2" in err
    assert "ok=1 failed=1 running=2" in err
    assert "ok: run-1" not in err  # only failures get a line of their own


def test_silent_says_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    show = Silent()
    show.start(2, 0)
    show.started(1)
    show.finished(FAILED)
    show.close()
    assert capsys.readouterr() == ("", "")


def test_choose(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(choose("lines"), Lines)
    assert isinstance(choose("bar"), Bar)
    assert type(choose("quiet")) is Silent
    mine = Lines()
    assert choose(mine) is mine  # a caller's own progress object
    monkeypatch.delenv("MLOPS_NB_NO_PROGRESS", raising=False)
    assert isinstance(choose("auto"), Lines)  # stderr is not a terminal under pytest
    monkeypatch.setenv("MLOPS_NB_NO_PROGRESS", "1")
    assert type(choose("auto")) is Silent
