"""The one error handler of every entry point (``mlops-nb`` and the hook scripts).

A user error (``MlopsNbError``) prints ``PROG: error: message`` and exits with its code; Ctrl-C
and SIGTERM exit 130; a missing optional module says which ``pip install`` fixes it; a reader
that went away (``mlops-nb collect | head``) is not an error; stdout that cannot be written (a
full disk) is one line and exit 2, as grep and diff do; anything else is a bug: its
traceback is saved to a log file whose path is printed, exit 3. Modelled on pre-commit's
``pre_commit/error_handler.py``. Imports nothing heavy: the hooks use it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from mlops_nb import __version__
from mlops_nb.errors import EXIT_INTERRUPTED, EXIT_USAGE, MlopsNbError, extra_error

EXIT_BUG = 3
# Loggers whose warnings are meant for the user of the CLI (one `PROG: message` line each).
USER_LOGGERS = ("mlops_nb.store",)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated()


def crash_log() -> Path:
    """Where a bug's traceback goes: ``$XDG_CACHE_HOME/mlops-nb/mlops-nb.log``."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mlops-nb" / "mlops-nb.log"


def report_bug(exc: BaseException, prog: str = "mlops-nb") -> int:
    """Save the traceback of a bug to ``crash_log()`` (stderr if that fails); ``EXIT_BUG``."""
    text = "".join(traceback.format_exception(exc))
    log = crash_log()
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"mlops-nb {__version__}\nargv: {sys.argv}\n\n{text}", encoding="utf-8")
        where = f"the traceback is in {log}"
    except OSError:
        where = "the traceback follows"
        _stderr(text)
    _stderr(
        f"{prog}: internal error: {type(exc).__name__}: {exc}\n"
        f"  This is a bug in mlops-nb; {where}. Please report it.\n"
    )
    return EXIT_BUG


def handle(prog: str, call: Callable[[], int], *, feature: str | None = None) -> int:
    """``call()``'s exit code, every error mapped to its message and exit code (module doc).

    ``feature`` names the command in a missing-extra message (default ``prog``). SIGTERM is
    turned into ``KeyboardInterrupt`` while ``call`` runs in the main thread. When stdout could
    not be written (``output.take_stdout_failure``: a full disk, an I/O error; not a reader gone)
    the exit code is ``EXIT_USAGE`` with one line saying so, unless the command was interrupted.
    """
    from mlops_nb import output

    output.take_stdout_failure()  # one left by an earlier call in this process is not ours
    code = _handle(prog, call, feature=feature)
    failure = output.take_stdout_failure()
    if failure is None or code == EXIT_INTERRUPTED:
        return code
    _stderr(f"{prog}: error: cannot write to stdout: {failure.strerror or failure}.\n")
    return EXIT_USAGE


def _stderr(text: str) -> None:
    """Write to stderr; one that is closed or full is left behind (``output.err``)."""
    from mlops_nb import output

    output.err(text.removesuffix("\n"))


def _handle(prog: str, call: Callable[[], int], *, feature: str | None) -> int:
    previous = signal.getsignal(signal.SIGTERM)
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with _user_warnings(prog):
            return int(call())
    except MlopsNbError as e:
        _stderr(f"{prog}: error: {e.message}\n")
        return e.exit_code
    except KeyboardInterrupt:
        _stderr(f"{prog}: interrupted\n")
        return EXIT_INTERRUPTED
    except ModuleNotFoundError as e:
        missing = extra_error(e, feature or prog)
        if missing is None:
            return report_bug(e, prog)
        _stderr(f"{prog}: error: {missing.message}\n")
        return missing.exit_code
    except BrokenPipeError:
        # the reader went away: not an error; later writes go nowhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as e:
        return report_bug(e, prog)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


class _UserLine(logging.Handler):
    def __init__(self, prog: str) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter(f"{prog}: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        _stderr(self.format(record))


@contextlib.contextmanager
def _user_warnings(prog: str) -> Iterator[None]:
    """While the command runs, the store's warnings are one ``PROG: message`` line each."""
    handler = _UserLine(prog)
    loggers = [logging.getLogger(name) for name in USER_LOGGERS]
    saved = [(lg.propagate, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
        if lg.level == logging.NOTSET:
            lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, (propagate, level) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.propagate = propagate
            lg.setLevel(level)
