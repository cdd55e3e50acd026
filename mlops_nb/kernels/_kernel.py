"""Start an IPython kernel as ``python -m ipykernel_launcher`` does, with an IOPub socket that
never drops output. Run as a script by the kernel's own Python; imports nothing from mlops_nb.

A kernel publishes its output on a ZeroMQ PUB socket whose high water mark is 1,000 messages
by default: when the driver reads more slowly than a cell writes (10,000 flushed writes of a
line each), ZeroMQ drops what does not fit, silently (zmq_setsockopt(3), ``ZMQ_SNDHWM``: "the
message shall be dropped"), and the saved output is cut short even in a run recorded ``ok``.
With no high water mark the kernel keeps what the driver has not read yet, and the driver's own
queue (bounded) makes the kernel wait: nothing is lost, the driver's memory stays bounded.

And a kernel sends what a cell printed in the last 0.2 s as one message, however big (a fast
loop printing 200 MB sent messages of tens of MB, each held several times by the driver while
decoded): here a stream flushes as soon as ``STREAM_CHUNK`` characters wait, so a message
stays small and the driver's memory does not grow with the speed of the printer.

The fork server (``_forkserver.py``) applies the same patches to its template (``patch``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

# The script's own folder must not shadow modules of the kernel (python puts it on sys.path[0]).
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]


STREAM_CHUNK = 1 << 20  # characters a kernel's stdout/stderr holds before it sends them


def patch() -> None:
    """Both patches, in this (kernel) process, before the kernel starts."""
    unbounded_iopub()
    bounded_stream_messages()


def bounded_stream_messages() -> None:
    from ipykernel.iostream import OutStream

    write = OutStream.write

    def _write(self: Any, string: str) -> int | None:
        n = write(self, string)
        pending = getattr(self, "_mlops_nb_pending", 0) + len(string)
        if pending >= STREAM_CHUNK:
            pending = 0
            self.flush()
        self._mlops_nb_pending = pending
        return n

    OutStream.write = _write  # type: ignore[method-assign]


def unbounded_iopub() -> None:
    import zmq
    from ipykernel.kernelapp import IPKernelApp

    bind = IPKernelApp._bind_socket

    def _bind_socket(self: Any, s: Any, port: Any) -> Any:
        if s.socket_type in (zmq.PUB, zmq.XPUB):
            s.sndhwm = 0  # set before bind, as ZeroMQ requires
        return bind(self, s, port)  # type: ignore[no-untyped-call]

    IPKernelApp._bind_socket = _bind_socket  # type: ignore[method-assign]


if __name__ == "__main__":
    patch()
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
