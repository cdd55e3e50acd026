"""The report's figures drawn in a helper process that imports matplotlib on another core while
the page reads its runs.

Importing matplotlib costs about 0.45 s, as much as reading the outline of 100,000 runs; after a
sweep the page redraws one section's figures and the run durations (issue 18: ``report`` in
1 s). ``mlops-nb report`` starts the painter first thing (``painting``), when the page is likely
to draw: when the runs index changed since the last page of the store (its files' sizes and
modification times, kept in the report cache), or the cache is off. The painter is
``python -m mlops_nb.report.painter``: it imports matplotlib, forks a second painter (one
import, both cores drawing while the page waits), then each draws the figures the page asks of
it (``draw``: a function of ``plots`` and its arguments, pickled over a pipe), in order, and
sends each back. A page whose sections have not changed starts none and
imports no plotting library (``report.assemble``).

The painter draws exactly what the page would draw itself (the same functions, seeded): the
page is the same either way. Whatever goes wrong with it (it cannot start, dies, or a figure
raises there) the page draws that figure itself, so an error is the page's own. It runs this
package's Python with this process's import path, on this machine, and is killed when the page
is done. Pickles cross only the pipe between the two processes.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # not imported by the painter process: it starts with matplotlib alone
    from mlops_nb.report.cache import Cache

# What the painter may draw: name -> the module of its function (``_figure``)
FIGURES = {
    "metric_plot": "mlops_nb.report.plots",
    "parallel_plot": "mlops_nb.report.plots",
    "duration_plot": "mlops_nb.report.plots",
    "duration_figure": "mlops_nb.report.durations",  # reads its sample from the index itself
}
_POSIX = hasattr(os, "fork") and hasattr(os, "killpg")  # elsewhere the page draws them itself
_ENTRY = "index state"  # the report cache's entry: the runs index's files when a page ended
_active: list[Painter] = []  # the painter of the page being written (``painting``)
_END_S = 5.0  # how long painters that drew may take to end (they end at once: they are idle)
_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class _Channel:
    """One painter's pipes: the figures asked of it go down ``jobs``, its answers come back on
    ``answers`` in the same order."""

    def __init__(self, jobs: IO[bytes], answers: IO[bytes]) -> None:
        self.jobs, self.answers = jobs, answers
        self.asked = 0
        self.read: list[Any] = []  # the answers read so far
        self.alive = True

    def ask(self, job: tuple[str, tuple[Any, ...]]) -> int | None:
        if not self.alive:
            return None
        try:
            pickle.dump(job, self.jobs, protocol=pickle.HIGHEST_PROTOCOL)
            self.jobs.flush()
        except (OSError, ValueError, pickle.PicklingError):
            self.alive = False
            return None
        self.asked += 1
        return self.asked - 1

    def answer(self, k: int) -> tuple[bool, Any]:
        while len(self.read) <= k and self.alive:
            try:
                self.read.append(pickle.load(self.answers))
            except Exception:  # EOF, a broken pipe: it died
                self.alive = False
        if k < len(self.read):
            ok, value = self.read[k]
            return bool(ok), value
        return False, None


class Painter:
    """The painter processes (``start``: one, which forks a second once matplotlib is
    imported, so that both cores draw) and the figures asked of them, answered in order."""

    def __init__(self, proc: subprocess.Popen[bytes], channels: list[_Channel]) -> None:
        self.proc = proc
        self.channels = channels
        self.routes: list[tuple[_Channel, int]] = []  # each figure asked: who draws it

    @classmethod
    def start(cls) -> Painter | None:
        """The painters, or None when they cannot be started."""
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        env.update(dict.fromkeys(_ONE_THREAD, "1"))  # no BLAS threads: the painter forks
        second_jobs, jobs = os.pipe()
        answers, second_answers = os.pipe()
        try:
            proc = subprocess.Popen(
                [  # -P: not the current folder first on the import path (a ./numpy.py)
                    sys.executable,
                    "-P",
                    "-m",
                    "mlops_nb.report.painter",
                    str(second_jobs),
                    str(second_answers),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                pass_fds=(second_jobs, second_answers),
                start_new_session=True,  # killed as a group; a Ctrl-C is the page's to handle
            )
        except OSError:
            os.close(jobs)
            os.close(answers)
            return None
        finally:  # the painter's ends now: a painter that dies closes them
            os.close(second_jobs)
            os.close(second_answers)
        assert proc.stdin is not None and proc.stdout is not None
        second = _Channel(os.fdopen(jobs, "wb"), os.fdopen(answers, "rb"))
        return cls(proc, [_Channel(proc.stdin, proc.stdout), second])

    def ask(self, name: str, args: tuple[Any, ...]) -> int | None:
        """Send one figure to the painter with the fewest asked (each draws in turn); its
        number, or None when no painter is left."""
        for channel in sorted(self.channels, key=lambda c: c.asked):
            k = channel.ask((name, args))
            if k is not None:
                self.routes.append((channel, k))
                return len(self.routes) - 1
        return None

    def answer(self, number: int) -> tuple[bool, Any]:
        """``(True, the figure)`` of figure ``number``, or ``(False, None)`` when its painter
        failed to draw it (or died)."""
        if not 0 <= number < len(self.routes):
            return False, None
        channel, k = self.routes[number]
        return channel.answer(k)

    def stop(self, *, done: bool = True) -> None:
        """End the painters and reap them: painters that drew for a page ``done`` end at the
        end of their pipes (the first reaps the second: their CPU time is the page's), within
        ``_END_S``; painters that drew nothing (they may still be importing), or for a page
        that failed or was interrupted, are killed at once."""
        for channel in self.channels:
            for pipe in (channel.jobs, channel.answers):
                with contextlib.suppress(OSError):
                    pipe.close()
        if self.routes and done:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(_END_S)
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group: the second painter too
        self.proc.wait()


def draw(name: str, *args: Any) -> Callable[[], Any]:
    """``<name>(*args)`` (a name of ``FIGURES``), drawn by the page's painter when it has
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
        return _figure(name)(*args)

    return result


def _figure(name: str) -> Callable[..., Any]:
    """The function that draws figure ``name`` (``FIGURES``)."""
    return getattr(importlib.import_module(FIGURES[name]), name)  # type: ignore[no-any-return]


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
    its end the painter is killed and the index's state kept in ``cache``. A store that is no
    folder (the page says so) starts none and keeps nothing."""
    key = cache.key(_ENTRY)
    painter = None
    store = runs_dir.is_dir()
    if store and _POSIX and (not cache.enabled or cache.get(key) != _state(runs_dir)):
        painter = Painter.start()
    if painter:
        _active.append(painter)
    done = False
    try:
        yield
        done = True
    finally:
        if painter:
            _active.remove(painter)
            painter.stop(done=done)
        if store:
            cache.put(key, _state(runs_dir))


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """A painter's loop: answer each ``(name, args)`` read from
    ``stdin`` with ``(True, figure)`` or ``(False, None)`` (it raised) on ``stdout``."""
    # The figures asked are read as they come, so that the page never waits to ask one while
    # this process waits to send one back (two full pipes).
    asked: queue.Queue[tuple[str, tuple[Any, ...]] | None] = queue.Queue()
    threading.Thread(target=_read, args=(stdin, asked), daemon=True).start()
    while (item := asked.get()) is not None:
        name, args = item
        try:
            answer: tuple[bool, Any] = (True, _figure(name)(*args))
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


def main(argv: list[str]) -> None:
    """The painter: import matplotlib, fork the second painter (its pipes: the file
    descriptors ``argv`` names), and each serves its own pipes."""
    import matplotlib.figure  # noqa: F401  # the import this process exists to do early
    from matplotlib.backends import backend_agg  # noqa: F401

    for module in set(FIGURES.values()):  # once, for both painters
        importlib.import_module(module)
    jobs, answers = (int(fd) for fd in argv)
    try:
        pid = os.fork()  # no thread yet: each starts its reader after this
    except OSError:
        pid = -1  # the page's second channel ends: it draws those figures itself
    if pid == 0:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)  # the first painter's pipes are not this one's to hold open
        os.dup2(null, 1)
        serve(os.fdopen(jobs, "rb"), os.fdopen(answers, "wb"))
        os._exit(0)
    os.close(jobs)
    os.close(answers)
    serve(sys.stdin.buffer, sys.stdout.buffer)
    if pid > 0:
        os.waitpid(pid, 0)  # the second painter's time is counted with this one's
    os._exit(0)  # every answer is written: no interpreter clean-up (~0.1 s with matplotlib)


if __name__ == "__main__":
    main(sys.argv[1:])
