"""Live execution-order guard: ``%load_ext mlops_nb`` in a notebook.

Jupyter front ends send each cell's id with its execution (``cellId``); ipykernel hands it to
IPython's ``pre_run_cell`` event as ``info.cell_id``. The guard reads the notebook file to know the
cells' order and warns, under the cell, when a cell runs above the last executed one or when code
cells between them were skipped. In strict mode the cell is rejected instead (an AST transformer
raises ``InputRejected``: IPython swallows exceptions raised in ``pre_run_cell``, so that cannot
stop a cell).

The notebook's path comes from ``%mlops_nb_guard PATH`` / ``watch(PATH)``, else from what the
front end tells the kernel: ``__session__`` / ``JPY_SESSION_NAME`` (Jupyter Server) or
``__vsc_ipynb_file__`` (VS Code). The order is read again whenever the file changes, so save the
notebook after adding cells. Cells above the cell that loads the guard count as already run.

The guard's own cells (only ``%mlops_nb_guard ...`` and ``%load_ext``/``%reload_ext``/
``%unload_ext mlops_nb`` lines, blank lines and comments) always run, in any order and mode: the
off switch is never locked. When the notebook is unknown the guard says so once, after the first
other cell has run, so naming it with ``%mlops_nb_guard PATH`` or ``watch(PATH)`` right after
``%load_ext`` gives no warning.

    %load_ext mlops_nb
    %mlops_nb_guard --strict          # or --warn (default), --off, --status; optional PATH

The environment variable ``MLOPS_NB_GUARD`` (``warn``, ``strict``, ``off``) sets the initial mode.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from IPython.core.error import InputRejected

MODES = ("warn", "strict", "off")
_GUARDS: dict[int, Guard] = {}
_OWN_LINE = re.compile(r"\s*(%mlops_nb_guard(\s.*)?|%(load|reload|unload)_ext\s+mlops_nb\s*|#.*)?")
UNKNOWN_NOTEBOOK = (
    "mlops-nb guard: cannot tell which notebook this kernel runs; "
    "name it with %mlops_nb_guard PATH.ipynb"
)


def is_guard_cell(source: object) -> bool:
    """True for a cell holding only the guard's own magics (blank lines and comments allowed)."""
    if not isinstance(source, str) or not source.strip():
        return False
    return all(_OWN_LINE.fullmatch(line) for line in source.splitlines())


class OutOfOrderError(InputRejected):
    """Strict mode: this cell would run out of order, so it was not run."""


@dataclass(frozen=True)
class CellOrder:
    """The notebook's cells as saved: ids top to bottom and which ones hold code to run."""

    ids: tuple[str | None, ...]
    runnable: frozenset[str]

    def position(self, cell_id: str) -> int | None:
        try:
            return self.ids.index(cell_id)
        except ValueError:
            return None


def read_order(path: Path) -> CellOrder:
    """The cell order of a notebook file (empty when it cannot be read)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [c for c in nb["cells"] if isinstance(c, dict)]
    except (OSError, ValueError, KeyError, TypeError):
        return CellOrder((), frozenset())
    ids = tuple(c.get("id") if isinstance(c.get("id"), str) else None for c in cells)
    runnable = frozenset(
        c["id"]
        for c in cells
        if c.get("cell_type") == "code" and isinstance(c.get("id"), str) and _has_code(c)
    )
    return CellOrder(ids, runnable)


def _has_code(cell: dict[str, Any]) -> bool:
    src = cell.get("source", "")
    text = src if isinstance(src, str) else "".join(s for s in src if isinstance(s, str))
    return bool(text.strip())


def notebook_path_from(
    user_ns: dict[str, Any], env: dict[str, str] | os._Environ[str]
) -> Path | None:
    """The notebook this kernel runs, as told by Jupyter Server or VS Code (None if unknown)."""
    for raw in (
        user_ns.get("__vsc_ipynb_file__"),
        user_ns.get("__session__"),
        env.get("JPY_SESSION_NAME"),
    ):
        if not isinstance(raw, str) or not raw.endswith(".ipynb"):
            continue
        p = Path(raw)
        for candidate in (p, Path.cwd() / p, Path.cwd() / p.name):
            if candidate.is_file():
                return candidate.resolve()
    return None


class Guard:
    """Per-kernel state: the last executed cell and the cells run since the guard was loaded."""

    def __init__(self, shell: Any, *, path: Path | None = None, mode: str = "warn") -> None:
        self.shell = shell
        self.path = path
        self.mode = mode
        self._order = CellOrder((), frozenset())
        self._mtime: float | None = None
        self._last: int | None = None
        self._ran: set[str] = set()
        self._fresh = True  # nothing recorded yet: cells above the first one count as run
        self.rejected: str | None = None
        self._started = False  # a cell began while the guard was installed
        self._told_unknown = False

    # --- the notebook's cell order ------------------------------------------------------------

    def _refresh(self) -> None:
        if self.path is None:
            return
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return
        if mtime != self._mtime:
            self._order, self._mtime = read_order(self.path), mtime

    def position(self, cell_id: str) -> int | None:
        self._refresh()
        return self._order.position(cell_id)

    # --- checks ---------------------------------------------------------------------------------

    def problem(self, cell_id: str) -> str | None:
        """Why running ``cell_id`` now breaks the top-to-bottom order, or None."""
        pos = self.position(cell_id)
        if pos is None:
            return None
        if self._last is not None and pos < self._last:
            return (
                f"cell {pos + 1} runs above the last executed cell {self._last + 1}: results may "
                "depend on state the cells below left behind. Restart & Run All before saving."
            )
        if self._fresh:
            return None
        start = 0 if self._last is None else self._last + 1
        skipped = [
            p + 1
            for p in range(start, pos)
            if self._order.ids[p] in self._order.runnable and self._order.ids[p] not in self._ran
        ]
        if not skipped:
            return None
        which = ", ".join(str(n) for n in skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        return (
            f"cell {pos + 1} runs, but code cell(s) {which} above it did not run in this kernel "
            "session. Run them first, or Restart & Run All."
        )

    def record(self, cell_id: str) -> None:
        pos = self.position(cell_id)
        if pos is None:
            return
        if self._fresh:
            self._ran.update(i for i in self._order.ids[:pos] if i is not None)
            self._fresh = False
        self._ran.add(cell_id)
        self._last = pos

    # --- IPython events ---------------------------------------------------------------------------

    def pre_run_cell(self, info: Any) -> None:
        self.rejected = None
        cell_id = getattr(info, "cell_id", None)
        if self.mode == "off" or not isinstance(cell_id, str):
            return
        if is_guard_cell(getattr(info, "raw_cell", None)):
            return  # the guard's own switches always run
        self._started = True
        message = self.problem(cell_id)
        if message is None:
            return
        if self.mode == "strict":
            self.rejected = f"mlops-nb guard (strict): {message} This cell was not run."
        else:
            from mlops_nb.output import err

            err(f"mlops-nb guard: {message}")

    def post_run_cell(self, result: Any) -> None:
        info = getattr(result, "info", None)
        cell_id = getattr(info, "cell_id", None)
        if isinstance(cell_id, str) and getattr(result, "error_before_exec", None) is None:
            self.record(cell_id)
        if self._started and self.path is None and self.mode != "off" and not self._told_unknown:
            # Only now: the cells that load the guard and name the notebook have had their turn.
            from mlops_nb.output import err

            self._told_unknown = True
            err(UNKNOWN_NOTEBOOK)


class _Reject(ast.NodeTransformer):
    """Raises in strict mode before the cell's code runs (IPython then skips the cell)."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def visit(self, node: ast.AST) -> Any:
        message, self.guard.rejected = self.guard.rejected, None
        if message:
            raise OutOfOrderError(message)
        return node


def _magic(guard: Guard) -> Any:
    def mlops_nb_guard(line: str) -> None:
        """%mlops_nb_guard [--warn | --strict | --off | --status] [PATH.ipynb]"""
        from mlops_nb.output import err

        for word in shlex.split(line):
            if word.lstrip("-") in MODES:
                guard.mode = word.lstrip("-")
            elif word != "--status":
                path = Path(word).expanduser()
                if not path.is_file():
                    err(f"mlops-nb guard: {path}: no such notebook file.")
                    return
                guard.path, guard._mtime = path.resolve(), None
        where = guard.path or "unknown notebook (give its path: %mlops_nb_guard PATH.ipynb)"
        err(f"mlops-nb guard: mode {guard.mode}, notebook {where}")

    return mlops_nb_guard


def watch(path: str | os.PathLike[str] | None = None, *, strict: bool | None = None) -> Guard:
    """Guard the running kernel's notebook (``path``, else the one Jupyter names)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("mlops_nb.guard.watch() works inside an IPython kernel only.")
    guard = _GUARDS.get(id(shell)) or _install(shell)
    if path is not None:
        guard.path, guard._mtime = Path(path).resolve(), None
    if strict is not None:
        guard.mode = "strict" if strict else "warn"
    return guard


def _install(shell: Any) -> Guard:
    mode = os.environ.get("MLOPS_NB_GUARD", "warn").strip().lower()
    guard = Guard(
        shell,
        path=notebook_path_from(shell.user_ns, os.environ),
        mode=mode if mode in MODES else "warn",
    )
    shell.events.register("pre_run_cell", guard.pre_run_cell)
    shell.events.register("post_run_cell", guard.post_run_cell)
    shell.ast_transformers.append(_Reject(guard))
    shell.register_magic_function(_magic(guard), magic_kind="line", magic_name="mlops_nb_guard")
    _GUARDS[id(shell)] = guard
    return guard


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext mlops_nb``. Says nothing yet when the notebook is unknown: the next cell may
    name it (``%mlops_nb_guard PATH``)."""
    _GUARDS.get(id(ipython)) or _install(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext mlops_nb``."""
    guard = _GUARDS.pop(id(ipython), None)
    if guard is None:
        return
    ipython.events.unregister("pre_run_cell", guard.pre_run_cell)
    ipython.events.unregister("post_run_cell", guard.post_run_cell)
    ipython.ast_transformers[:] = [
        t for t in ipython.ast_transformers if not (isinstance(t, _Reject) and t.guard is guard)
    ]
