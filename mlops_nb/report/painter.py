"""The report's figures drawn in a helper process that imports matplotlib on another core while
the page reads its runs.

Importing matplotlib costs about 0.45 s, as much as reading the outline of 100,000 runs; after a
sweep the page redraws one section's figures and the run durations (issue 18: ``report`` in
1 s). ``mlops-nb report`` starts the painter first thing (``painting``), when the page is likely
to draw: when the runs index changed since the last page of the store (its files' sizes and
modification times, kept in the report cache), or the cache is off. The painter is
``python -m mlops_nb.report.painter``: it imports matplotlib, then draws the figures the page
asks for (``draw``: a function of ``plots`` and its arguments, pickled over its standard
input), in order, and sends each back. A page whose sections have not changed starts none and
imports no plotting library (``report.assemble``).

The painter draws exactly what the page would draw itself (the same functions, seeded): the
page is the same either way. Whatever goes wrong with it (it cannot start, dies, or a figure
raises there) the page draws that figure itself, so an error is the page's own. It runs this
package's Python with this process's import path, on this machine, and is killed when the page
is done. Pickles cross only the pipe between the two processes.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from mlops_nb.report.cache import Cache

FIGURES = ("metric_plot", "parallel_plot", "duration_plot")  # what the painter may draw
_ENTRY = "index state"  # the report cache's entry: the runs index's files when a page ended
_active: list[Painter] = []  # the painter of the page being written (``painting``)


class Painter:
    """A painter process (``start``) and the figures asked of it, answered in order."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.asked = 0
        self.answers: list[Any] = []  # the answers read so far, in the order asked

    @classmethod
    def start(cls) -> Painter | None:
        """A painter process, or None when it cannot be started."""
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mlops_nb.report.painter"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError:
            return None
        return cls(proc)

    def ask(self, name: str, args: tuple[Any, ...]) -> int | None:
        """Send one figure to draw; its number, or None when the painter is gone."""
        stdin = self.proc.stdin
        if stdin is None or self.proc.returncode is not None:
            return None
        try:
            pickle.dump((name, args), stdin, protocol=pickle.HIGHEST_PROTOCOL)
            stdin.flush()
        except (OSError, ValueError, pickle.PicklingError):
            return None
        self.asked += 1
        return self.asked - 1

    def answer(self, number: int) -> tuple[bool, Any]:
        """``(True, the figure)`` of figure ``number``, or ``(False, None)`` when the painter
        failed to draw it (or died)."""
        stdout = self.proc.stdout
        while len(self.answers) <= number and stdout is not None:
            try:
                self.answers.append(pickle.load(stdout))
            except Exception:  # EOF, a broken pipe: it died
                break
        if number < len(self.answers):
            ok, value = self.answers[number]
            return bool(ok), value
        return False, None

    def stop(self) -> None:
        """Kill the process (it may still be importing) and reap it."""
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()


def draw(name: str, *args: Any) -> Callable[[], Any]:
    """``plots.<name>(*args)`` (a name of ``FIGURES``), drawn by the page's painter when it has
    one, else here; call the result to get the figure (the painter draws meanwhile)."""
    if name not in FIGURES:
        raise ValueError(f"not a figure: {name!r}")
    painter = _active[-1] if _active else None
    number = painter.ask(name, args) if painter else None

    def result() -> Any:
        if painter is not None and number is not None:
            ok, value = painter.answer(number)
            if ok:
                return value
        from mlops_nb.report import plots

        return getattr(plots, name)(*args)

    return result


def _state(runs_dir: Path) -> list[list[int]]:
    """The runs index files' sizes, times and inodes (each write changes one of them: SQLite
    appends each committed transaction to the ``-wal`` file)."""
    from mlops_nb.store.runs import INDEX

    out: list[list[int]] = []
    for suffix in ("", "-wal"):
        try:
            st = os.stat(runs_dir / f"{INDEX}{suffix}")
        except OSError:
            out.append([])
            continue
        out.append([st.st_size, st.st_mtime_ns, st.st_ino])
    return out


@contextlib.contextmanager
def painting(runs_dir: Path, cache: Cache) -> Iterator[None]:
    """Within the block, figures (``draw``) are drawn by a painter process, started now when
    the runs index of ``runs_dir`` changed since the last block's end or ``cache`` is off; at
    its end the painter is killed and the index's state kept in ``cache``."""
    key = cache.key(_ENTRY)
    painter = None
    if not cache.enabled or cache.get(key) != _state(runs_dir):
        painter = Painter.start()
    if painter:
        _active.append(painter)
    try:
        yield
    finally:
        if painter:
            _active.remove(painter)
            painter.stop()
        cache.put(key, _state(runs_dir))


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The painter's loop: import matplotlib, then answer each ``(name, args)`` read from
    ``stdin`` with ``(True, figure)`` or ``(False, None)`` (it raised) on ``stdout``."""
    import matplotlib.figure  # noqa: F401  # the import this process exists to do early
    from matplotlib.backends import backend_agg  # noqa: F401

    from mlops_nb.report import plots

    # The figures asked are read as they come, so that the page never waits to ask one while
    # this process waits to send one back (two full pipes).
    asked: queue.Queue[tuple[str, tuple[Any, ...]] | None] = queue.Queue()
    threading.Thread(target=_read, args=(stdin, asked), daemon=True).start()
    while (item := asked.get()) is not None:
        name, args = item
        try:
            if name not in FIGURES:
                raise ValueError(name)
            answer: tuple[bool, Any] = (True, getattr(plots, name)(*args))
        except Exception:  # the page draws it itself and meets the error
            answer = (False, None)
        pickle.dump(answer, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()


def _read(stdin: IO[bytes], asked: queue.Queue[tuple[str, tuple[Any, ...]] | None]) -> None:
    """Put each ``(name, args)`` read from ``stdin`` in ``asked``, then None (its end)."""
    try:
        while True:
            asked.put(pickle.load(stdin))
    except Exception:  # EOF: the page is done; anything else ends the painter too
        asked.put(None)


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
