"""All user-facing text goes through here, so tests can capture it and the library never prints.

The library logs with ``logging``; commands print with these helpers.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shutil
import sys
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from mlops_nb import strict_json
from mlops_nb.errors import EXIT_USAGE

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


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


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser (its subcommands' too) writing its help and version text as ``out``
    writes stdout. argparse ignores an error writing them and exits 0
    (``ArgumentParser._print_message``; with stdout closed it writes them to stderr): here
    ``--help > /dev/full`` or ``>&-`` is one line "PROG: error: cannot write to stdout: ..."
    and exit 2, as ``ls --help > /dev/full`` is (GNU coreutils' close_stdout)."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if message and file is sys.stdout:  # help or version (both None: stdout is closed)
            take_stdout_failure()  # one left by an earlier command in this process is not ours
            out(message.removesuffix("\n"))
        else:  # usage and errors: stderr, as argparse does
            super()._print_message(message, file)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        failure = take_stdout_failure() if status == 0 else None
        if failure is not None:
            prog = self.prog.split(" ", 1)[0]  # a subcommand's prog is "mlops-nb collect"
            err(f"{prog}: error: cannot write to stdout: {failure.strerror or failure}.")
            status = EXIT_USAGE  # as grep and diff, and every other write error here
        super().exit(status, message)


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
