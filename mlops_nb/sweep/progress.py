"""Sweep progress: a bar on a terminal, one line per finished run elsewhere, or nothing.

Lines look like ``[3/20] ok      <run id>  lr=0.1  (1.2 s)``; a failed run adds its error line.
The library never prints: the sweep calls a ``Progress`` that the caller chose.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mlops_nb import output
from mlops_nb.sweep.sets import describe


@dataclass(frozen=True)
class Finished:
    """A parameter set whose run ended, as progress reports it (``error``: one line)."""

    status: str
    run_id: str | None
    params: Mapping[str, Any]
    duration_s: float | None = None
    error: str | None = None


class Progress(Protocol):
    """What a sweep reports to: ``start`` once, ``started`` when the number of runs in flight
    changes, ``finished`` per set that ran, ``close`` at the end (also after a stop)."""

    def start(self, total: int, done: int) -> None: ...

    def started(self, running: int) -> None: ...

    def finished(self, run: Finished) -> None: ...

    def close(self) -> None: ...


class Silent:
    def start(self, total: int, done: int) -> None:
        pass

    def started(self, running: int) -> None:
        pass

    def finished(self, run: Finished) -> None:
        pass

    def close(self) -> None:
        pass


class Lines(Silent):
    """One line per finished run, on stderr (CI logs)."""

    def start(self, total: int, done: int) -> None:
        self.total, self.n = total, done
        if done:
            output.err(f"[{done}/{total}] already done (resumed)")

    def finished(self, run: Finished) -> None:
        self.n += 1
        took = f"  ({run.duration_s:.1f} s)" if run.duration_s is not None else ""
        tail = f"  {run.error}" if run.error else ""
        output.err(
            f"[{self.n}/{self.total}] {run.status:<11} {run.run_id or '-'}  "
            f"{describe(run.params)}{took}{tail}"
        )


class Bar(Silent):
    """A tqdm bar with ok/failed/running counts and an ETA."""

    def start(self, total: int, done: int) -> None:
        from tqdm import tqdm

        self.ok = self.failed = self.running = 0
        self.t0 = time.monotonic()
        self.bar = tqdm(
            total=total, initial=done, file=sys.stderr, unit="run", dynamic_ncols=True, desc="sweep"
        )
        self._postfix()

    def _postfix(self) -> None:
        self.bar.set_postfix_str(f"ok={self.ok} failed={self.failed} running={self.running}")

    def started(self, running: int) -> None:
        self.running = running
        self._postfix()

    def finished(self, run: Finished) -> None:
        if run.status == "ok":
            self.ok += 1
        else:
            self.failed += 1
            self.bar.write(
                f"{run.status}: {run.run_id or '-'}  {describe(run.params)}  {run.error or ''}",
                file=sys.stderr,
            )
        self.bar.update(1)
        self._postfix()

    def close(self) -> None:
        self.bar.close()


def choose(mode: str | Progress) -> Progress:
    """``auto`` (bar on a terminal, lines otherwise), ``bar``, ``lines``, ``quiet``, or your own."""
    if not isinstance(mode, str):
        return mode
    if mode == "auto":
        if os.environ.get("MLOPS_NB_NO_PROGRESS"):
            return Silent()
        mode = "bar" if output.is_tty(sys.stderr) else "lines"
    return {"bar": Bar, "lines": Lines, "quiet": Silent}[mode]()
