"""Whether an executed notebook worked: pure functions over an executed notebook dict.

The rule (DESIGN.md): a run is ``ok`` only if every code cell ran without an error reply from the
kernel. Cells tagged ``raises-exception`` may raise (Jupyter's and nbclient's convention: their
error is expected, execution goes on). ``sys.exit(0)`` is a clean stop, as in papermill.

An error reply does not always leave an error output: IPython answers a bad magic
(``%no_such_magic``) with an error reply and only a stderr line ``UsageError: ...``. papermill
then stops and marks the cell ``metadata.papermill.exception``; the cells after it stay
unexecuted. That marker is what is read here when the live reply is not at hand (records read
back from disk).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlops_nb.notebook.io import INJECTED_TAG, tags_of

RAISES_TAG = "raises-exception"  # Jupyter's tag for a cell expected to raise
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)): ?(.*)$", re.M)


def clean_exit(ename: Any, evalue: Any) -> bool:
    """``sys.exit()`` / ``sys.exit(0)``: papermill treats it as a clean stop, so do we."""
    return ename == "SystemExit" and str(evalue) in ("", "0", "None")


def may_raise(cell: Mapping[str, Any]) -> bool:
    return RAISES_TAG in tags_of(cell)


def source_index(nb: Mapping[str, Any], index: int | None) -> int | None:
    """0-based index of an executed cell in the user's notebook (injected cells do not count)."""
    if index is None:
        return None
    cells = nb.get("cells", [])
    return index - sum(1 for c in cells[:index] if INJECTED_TAG in tags_of(c))


def _marked(cell: Mapping[str, Any]) -> bool:
    md = cell.get("metadata")
    pm = md.get("papermill") if isinstance(md, dict) else None
    return isinstance(pm, dict) and pm.get("exception") is True


def _outputs(cell: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    outs = cell.get("outputs")
    return [o for o in outs if isinstance(o, dict)] if isinstance(outs, list) else []


def _stderr_error(cell: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(ename, evalue)`` from an ``Name: message`` line the kernel wrote to stderr."""
    for out in _outputs(cell):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            text = out.get("text", "")
            m = _ERROR_LINE.search(_ANSI.sub("", text if isinstance(text, str) else "".join(text)))
            if m:
                return m.group(1), m.group(2).strip()
    return None


def error_of(
    nb: Mapping[str, Any], i: int, reply: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The error of executed cell ``i`` (``cell_index`` counted in the user's notebook, from 0),
    from its error output, the kernel's error ``reply`` content, or its papermill marker; None
    when the cell did not fail (or may raise, or exited cleanly)."""
    cell = nb["cells"][i]
    if cell.get("cell_type") != "code" or may_raise(cell):
        return None
    ename: Any = None
    evalue: Any = ""
    traceback: list[Any] = []
    for out in _outputs(cell):
        if out.get("output_type") == "error":
            ename, evalue = out.get("ename"), out.get("evalue")
            traceback = list(out.get("traceback") or [])
            break
    if ename is None and reply is not None and reply.get("status") == "error":
        ename, evalue = reply.get("ename") or "Error", reply.get("evalue") or ""
        traceback = list(reply.get("traceback") or [])
    if ename is None and (reply is not None or _marked(cell)):
        found = _stderr_error(cell)
        ename, evalue = found or (
            "KernelError",
            "the kernel reported an error for this cell without an error output",
        )
    if ename is None or clean_exit(ename, evalue):
        return None
    return {
        "ename": ename,
        "evalue": evalue,
        "cell_index": source_index(nb, i),
        "cell_id": cell.get("id"),
        "execution_count": cell.get("execution_count"),
        "traceback": [_ANSI.sub("", str(line)) for line in traceback],
    }


def first_error(
    nb: Mapping[str, Any], replies: Mapping[int, Mapping[str, Any]] | None = None
) -> dict[str, Any] | None:
    """The first failed code cell's error, or None when the notebook ran clean.

    ``replies``: error reply contents the kernel sent, by cell index in ``nb`` (live runs).
    """
    replies = replies or {}
    for i, cell in enumerate(nb.get("cells", [])):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        error = error_of(nb, i, replies.get(i))
        if error is not None:
            return error
        if any(
            o.get("output_type") == "error" and clean_exit(o.get("ename"), o.get("evalue"))
            for o in _outputs(cell)
        ) and not may_raise(cell):
            return None  # sys.exit(0): the cells below were meant not to run
    return None
