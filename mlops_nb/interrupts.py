"""The one way the library catches Ctrl-C and SIGTERM: ``on_interrupt``.

A run, a sweep and a pipeline each stop their work in their own way (stop the kernel, write a
stop file, set a cancel event) but install and restore the handlers the same way, here.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def on_interrupt(handler: Callable[[], None], *, install: bool = True) -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM call ``handler()`` (which may raise, e.g.
    ``KeyboardInterrupt`` when asked again); the previous handlers are restored afterwards.

    Installed only with ``install`` and in the main thread: Python runs signal handlers there
    and ``signal.signal`` raises ValueError elsewhere (Python docs, ``signal``). Elsewhere the
    caller's thread is stopped by whoever owns the signals (a sweep, a pipeline).
    """
    if not install or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        handler()

    previous = {s: signal.signal(s, on_signal) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
