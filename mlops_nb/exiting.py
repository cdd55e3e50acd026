"""Leaving the ``mlops-nb`` process without tearing the interpreter down.

When a command returns, Python waits for non-daemon threads, runs the ``atexit`` callbacks, and
then frees every module and object one by one (``Py_FinalizeEx``). After a command that imported
pandas, papermill and jupyter_client that last part costs 0.1-0.3 s of CPU on this project's
2-core benchmark machine, and it writes nothing: the files a command writes are closed when it
returns (atomic writes), logging flushes in its ``atexit`` callback, and the runs index's kept
connection is closed in one (``store.kept``). ``exit_now`` does the first two steps as Python
does, flushes the standard streams, and ends the process with the exit code (``os._exit``), as
the fork server and pool workers already end. It exits the usual way while a tracer or a
profiler is set (coverage, ``python -m cProfile``, a debugger: they write what they gathered
after the program returns), and on a Python without ``threading._shutdown`` (a private function
of every Python 3 up to 3.13).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """End this process with ``code`` after what a normal exit does first (see the module)."""
    shutdown = getattr(threading, "_shutdown", None)
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if shutdown is None or run_exitfuncs is None or sys.gettrace() or sys.getprofile():
        sys.exit(code)
    try:
        shutdown()  # joins non-daemon threads, runs threading's own exit hooks
        run_exitfuncs()  # prints, as Python does, what a callback raised
    finally:
        for stream in (sys.stdout, sys.stderr):
            # a reader gone, a stream closed (None when the process started without it)
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        os._exit(code)
