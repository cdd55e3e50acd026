"""The one signal helper (issue 16): SIGINT/SIGTERM call the handler inside the block, the
previous handlers come back after it, and nothing is installed outside the main thread."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from mlops_nb.interrupts import on_interrupt


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_calls_the_handler_and_the_old_one_comes_back(signum: signal.Signals) -> None:
    before = signal.getsignal(signum)
    got: list[str] = []
    with on_interrupt(lambda: got.append("stop")):
        os.kill(os.getpid(), signum)  # delivered to the main thread before kill returns
        os.kill(os.getpid(), signum)
    assert got == ["stop", "stop"]
    assert signal.getsignal(signum) is before


def test_a_handler_may_raise_and_the_old_handler_still_comes_back() -> None:
    before = signal.getsignal(signal.SIGTERM)

    def handler() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), on_interrupt(handler):
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before


def test_not_installed_when_asked_not_to_or_outside_the_main_thread() -> None:
    before = signal.getsignal(signal.SIGINT)
    with on_interrupt(lambda: None, install=False):
        assert signal.getsignal(signal.SIGINT) is before
    seen: list[object] = []

    def in_thread() -> None:
        with on_interrupt(lambda: None):
            seen.append(signal.getsignal(signal.SIGINT))

    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert seen == [before]
