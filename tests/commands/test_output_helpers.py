"""The one output module: what commands print, where, and what happens when the reader goes."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator

import pytest

from mlops_nb import output


@pytest.fixture
def closed_pipe() -> Iterator[io.TextIOWrapper]:
    """A real pipe whose reader has gone (as `mlops-nb collect | head -1` leaves it)."""
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    writer = os.fdopen(write_fd, "w")
    yield writer
    with contextlib.suppress(BrokenPipeError):
        writer.close()


def test_a_gone_reader_of_stdout_drops_the_rest_quietly(
    closed_pipe: io.TextIOWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", closed_pipe)
    output.out("first line")  # would raise BrokenPipeError without the guard
    output.out("the rest goes to /dev/null")
    output.print_json({"still": "fine"})
    assert os.readlink(f"/proc/self/fd/{closed_pipe.fileno()}") == os.devnull


def test_a_gone_reader_of_another_stream_is_the_callers_to_handle(
    closed_pipe: io.TextIOWrapper,
) -> None:
    with pytest.raises(BrokenPipeError):
        output.out("to a report file that went away", stream=closed_pipe)


def test_out_err_and_notice_go_to_their_streams(capsys: pytest.CaptureFixture[str]) -> None:
    output.out("result")
    output.out()
    output.err("problem")
    output.notice("index rebuilt")
    got = capsys.readouterr()
    assert got.out == "result\n\n"
    assert got.err == "problem\nmlops-nb: index rebuilt\n"


def test_print_json_is_strict_and_keeps_the_order(capsys: pytest.CaptureFixture[str]) -> None:
    output.print_json({"b": 1, "a": float("nan"), "é": "ü"})
    text = capsys.readouterr().out
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert list(data) == ["b", "a", "é"]  # order kept
    assert data["a"] == {"$numberDouble": "NaN"}  # NaN encoded (mlops_nb.strict_json), no token
    assert '"é": "ü"' in text  # not \u-escaped


def test_is_tty_only_for_a_real_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    primary, secondary = os.openpty()
    try:
        with os.fdopen(secondary, "w", closefd=False) as tty:
            monkeypatch.setenv("TERM", "xterm")
            assert output.is_tty(tty)
            monkeypatch.setenv("TERM", "dumb")  # e.g. an editor's output pane
            assert not output.is_tty(tty)
    finally:
        os.close(primary)
        os.close(secondary)
    assert not output.is_tty(io.StringIO())
    assert not output.is_tty(object())  # type: ignore[arg-type]


def test_terminal_width_follows_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "42")
    assert output.terminal_width() == 42


def test_table_aligns_columns() -> None:
    text = output.table([["a", "1"], ["long name", "22"]], ["name", "n"])
    assert text.splitlines() == [
        "name       n",
        "---------  --",
        "a          1",
        "long name  22",
    ]
