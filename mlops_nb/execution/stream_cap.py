"""Stream output kept in a run's output notebook: capped, merged, the rest written to files.

A cell printing 200 MB would make a 212 MB output notebook and a driver at ~1 GB: stream text
kept in the notebook is capped at ``output_limit`` characters per run (``MLOPS_NB_OUTPUT_LIMIT``,
default 5M, ``0`` for no cap). Past the cap, a cell's stream is written in full to
``output-streams/cell<N>-<stdout|stderr>.txt`` in the run folder and a visible note in the cell
says where; the record lists the cuts under ``output_cut``. Consecutive writes to one stream are
merged into one output (up to ``MERGE_CHARS``), as Jupyter front ends show them.

Imports only nbformat, so checking ``MLOPS_NB_OUTPUT_LIMIT`` before a run (``runner.prepare``)
does not import papermill (``client`` holds the notebook client that uses a ``StreamCap``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import typing as t
from pathlib import Path

from nbformat import NotebookNode

from mlops_nb.errors import UsageError

log = logging.getLogger(__name__)
LIMIT_ENV = "MLOPS_NB_OUTPUT_LIMIT"
DEFAULT_LIMIT = 5_000_000  # characters of stream text kept in the output notebook
MERGE_CHARS = 64 * 1024  # consecutive stream writes are merged into outputs up to this size
STREAMS_DIR = "output-streams"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?\s*$")


def output_limit(value: str | None = None) -> int | None:
    """The cap from ``value`` (or ``MLOPS_NB_OUTPUT_LIMIT``): ``"10M"``, ``"500k"``, ``"0"`` (no
    cap) → characters, or None for no cap. Raises ``UsageError`` for anything else."""
    text = os.environ.get(LIMIT_ENV, "") if value is None else value
    if not text.strip():
        return DEFAULT_LIMIT
    m = _SIZE.match(text)
    if m is None:
        raise UsageError(
            f"{LIMIT_ENV}={text!r}: not a size. Use a number of characters with an optional "
            "k, M or G suffix (10M), or 0 for no cap."
        )
    # decimal units, as lint's max-output-bytes
    n = int(float(m.group(1)) * 1000 ** " kmg".index(m.group(2).lower() or " "))
    return n or None


class StreamCap:
    """Stream text kept per run, and the cells whose stream went to a file instead."""

    def __init__(self, limit: int | None, folder: Path | None) -> None:
        self.limit, self.folder = limit, folder
        self.kept = 0
        self.files: dict[tuple[int, str], t.IO[str] | None] = {}
        self.cuts: list[dict[str, t.Any]] = []

    def add(self, outs: list[NotebookNode], cell: int, name: str, text: str) -> t.Any:
        """Keep ``text`` (a stream message of cell number ``cell``) in ``outs`` or its file."""
        key = (cell, name)
        if key in self.files:
            self._spill(key, text)
            return None
        if self.limit is None or self.kept + len(text) <= self.limit:
            self.kept += len(text)
            return _append(outs, name, text)
        head = text[: max(0, self.limit - self.kept)]
        if head:
            self.kept += len(head)
            _append(outs, name, head)
        earlier = "".join(
            str(o.get("text", ""))
            for o in outs
            if o.get("output_type") == "stream" and o.get("name") == name
        )
        path = self._open(key)
        self._spill(key, earlier[: len(earlier) - len(head)] + text)
        where = (
            f"the whole {name} of this cell is in {STREAMS_DIR}/{path.name} in the run folder"
            if path is not None
            else "the rest could not be saved"
        )
        note = (
            f"\n[mlops-nb: {name} cut here: the run's output notebook keeps {self.limit} "
            f"characters of stream output ({LIMIT_ENV}); {where}]\n"
        )
        self.cuts.append(
            {
                "cell": cell,
                "stream": name,
                "file": f"{STREAMS_DIR}/{path.name}" if path else None,
            }
        )
        outs.append(new_output("stream", name=name, text=note))
        return None

    def _open(self, key: tuple[int, str]) -> Path | None:
        if self.folder is None:
            self.files[key] = None
            return None
        path = self.folder / STREAMS_DIR / f"cell{key[0]}-{key[1]}.txt"
        try:
            path.parent.mkdir(exist_ok=True)
            self.files[key] = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        except OSError as e:
            log.warning("cannot save the cut output to %s: %s", path, e.strerror or e)
            self.files[key] = None
            return None
        return path

    def _spill(self, key: tuple[int, str], text: str) -> None:
        f = self.files.get(key)
        if f is None:
            return
        try:
            f.write(text)
        except OSError as e:  # a full disk: the notebook's note still says where it was cut
            log.warning("cannot save the cut output of cell %s: %s", key[0], e.strerror or e)
            self._close(key)

    def forget(self, cell_index: int, outs: list[NotebookNode]) -> None:
        """The cell's outputs were cleared (``clear_output``): their text no longer counts."""
        self.kept -= sum(
            len(str(o.get("text", ""))) for o in outs if o.get("output_type") == "stream"
        )
        self.kept = max(self.kept, 0)

    def _close(self, key: tuple[int, str]) -> None:
        f = self.files.get(key)
        self.files[key] = None
        if f is not None:
            with contextlib.suppress(OSError):
                f.close()

    def close(self) -> None:
        for key in list(self.files):
            self._close(key)


def new_output(output_type: str, **fields: t.Any) -> NotebookNode:
    """An output node, built directly: nbformat's ``new_output`` validates against the JSON
    schema, which cost ~1 ms per message."""
    return NotebookNode(output_type=output_type, **fields)  # type: ignore[no-untyped-call]


def _append(outs: list[NotebookNode], name: str, text: str) -> NotebookNode:
    last = outs[-1] if outs else None
    if (
        last is not None
        and last.get("output_type") == "stream"
        and last.get("name") == name
        and len(last["text"]) + len(text) <= MERGE_CHARS
    ):
        last["text"] += text
        return new_output("stream", name=name, text=text)  # what this message added
    out = new_output("stream", name=name, text=text)
    outs.append(out)
    return out
