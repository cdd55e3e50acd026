"""All user-facing text goes through here, so tests can capture it and the library never prints.

The library logs with ``logging``; commands print with these helpers.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sys
from typing import Any, TextIO

from mlops_nb import strict_json


def out(text: str = "", *, stream: TextIO | None = None) -> None:
    """Print a line of normal output (stdout).

    When the reader has gone away (``mlops-nb lint . | head -1``) the rest of the output is
    dropped and the command goes on, so its exit code stays true for scripts (a pipe closed early
    must not turn findings or a failed run into success).
    """
    target = stream or sys.stdout
    if target is None:  # started with stdout closed (>&-): print() would drop the text silently
        _stdout_failed(_closed())
        return
    try:
        print(text, file=target, flush=True)
    except BrokenPipeError:
        if target is not sys.stdout:
            raise
        _drop_stdout()
    except OSError as e:
        if target is not sys.stdout:
            raise
        _stdout_failed(e)


def out_bytes(data: bytes) -> None:
    """Write bytes as they are on stdout (``-o -``), a closed reader handled as ``out`` does."""
    if sys.stdout is None:
        _stdout_failed(_closed())
        return
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    try:
        if buffer is None:  # a text-only stream (tests may swap one in)
            sys.stdout.write(data.decode("utf-8", "replace"))
            sys.stdout.flush()
        else:
            buffer.write(data)
            buffer.flush()
    except BrokenPipeError:
        _drop_stdout()
    except OSError as e:
        _stdout_failed(e)


# The first error writing stdout other than a reader gone (a full disk, an I/O error), kept for
# error_handler: the command goes on (its runs and records complete) and then exits 2 with one
# line, as grep and diff do when their output cannot be written.
_failures: list[OSError] = []


def _closed() -> OSError:
    return OSError(errno.EBADF, os.strerror(errno.EBADF))


def _stdout_failed(error: OSError) -> None:
    """Keep ``error`` for ``take_stdout_failure`` and send the rest of stdout to /dev/null (a
    stream without a file descriptor is left as it is)."""
    if not _failures:
        _failures.append(error)
    if sys.stdout is not None:
        with contextlib.suppress(OSError, ValueError):
            _drop_stdout()


def take_stdout_failure() -> OSError | None:
    """The first error met writing stdout since the last call (None if none), forgotten."""
    failure = _failures[0] if _failures else None
    _failures.clear()
    return failure


def _drop_stdout(stream: TextIO | None = None) -> None:
    """Point stdout (or ``stream``) at /dev/null (what is left in Python's buffer is discarded
    with it)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, (stream or sys.stdout).fileno())
    finally:
        os.close(devnull)


def err(text: str) -> None:
    """Print a line for the user on stderr (errors, notices, progress). When the reader has
    gone away (``mlops-nb sweep ... 2>&1 | head``) the rest is dropped and the command goes on:
    a sweep must not stop, nor its exit code say success, because its progress had no reader.
    The same when stderr cannot be written (``2> /dev/full``) or is closed (``2>&-``): the
    diagnostics have nowhere to go, and the exit code still tells."""
    if sys.stderr is None:  # started without fd 2; print(file=None) would write to stdout
        return
    try:
        print(text, file=sys.stderr, flush=True)
    except OSError:
        with contextlib.suppress(OSError, ValueError):
            _drop_stdout(sys.stderr)


def notice(text: str) -> None:
    """A one-line notice on stderr, e.g. 'index rebuilt'."""
    err(f"mlops-nb: {text}")


def print_json(data: Any) -> None:
    """Print data as indented JSON on stdout."""
    out(strict_json.dumps(data, indent=2, sort_keys=False, default=str, ensure_ascii=False))


def is_tty(stream: TextIO | None = None) -> bool:
    """True when the stream is an interactive terminal (progress bars, colours)."""
    s = stream or sys.stderr
    return hasattr(s, "isatty") and s.isatty() and os.environ.get("TERM") != "dumb"


def terminal_width(default: int = 100) -> int:
    """Width of the terminal, or a default when not on one."""
    return shutil.get_terminal_size((default, 24)).columns


def table(rows: list[list[str]], headers: list[str]) -> str:
    """A plain aligned text table (no dependency), clipped to the terminal width."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
