"""What a sweep imports before kernels get their notebook (``--preload``), and starting the fork
server early: light imports only, so the command line can start the server first thing."""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

from mlops_nb.errors import UsageError
from mlops_nb.notebook.imports import import_statements

log = logging.getLogger(__name__)
_WARNED: set[tuple[str, ...]] = set()
AUTO = "auto"  # the default: the notebook's own imports (where fork-safe)
_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class Kernels(TypedDict):
    """How a sweep's kernels start: the keywords of these names that ``start_fork_server`` and
    ``sweep()`` both take (the command line builds them once)."""

    cwd: str | os.PathLike[str] | None
    kernel_name: str | None
    preload: str | Sequence[str] | None
    executor: str
    prewarm: bool
    fork: bool


def start_fork_server(
    nb: Mapping[str, Any],
    *,
    notebook: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None,
    kernel_name: str | None,
    preload: str | Sequence[str] | None,
    executor: str,
    prewarm: bool,
    fork: bool,
) -> Any:
    """Acquire the fork server this sweep's kernels will be forked from, so that its template
    imports (~0.5 s) while the sweep is planned; None when kernels are not forked here. The
    caller releases it (``forking.release``). A bad ``preload`` raises UsageError."""
    if not (fork and prewarm and executor in ("local", "serial")):
        return None
    work = (Path(cwd) if cwd is not None else (Path(notebook).parent or Path("."))).resolve()
    modules = preload_modules(preload, nb, check=kernel_name in (None, "python3"), cwd=work)
    from mlops_nb.kernels.fork_source import prestart_fork_server

    ks = nb.get("metadata", {}).get("kernelspec") or {}
    return prestart_fork_server(kernel_name or str(ks.get("name") or "python3"), modules, work)


def preload_modules(
    preload: str | Sequence[str] | None,
    nb: Mapping[str, Any],
    *,
    check: bool,
    cwd: Path | None = None,
) -> tuple[str, ...]:
    """``"pandas,sklearn"`` → modules; ``"auto"`` or None (the default) → the modules the
    notebook itself imports; ``""`` or ``()`` (``--no-preload``) → none. Modules are looked up in
    this environment and, as a kernel would, in ``cwd`` (the kernels' working directory: a
    notebook's own modules). Which of them a fork template may import: ``forksafety``."""
    if preload is None:
        preload = AUTO
    if not preload:
        return ()
    names = preload.split(",") if isinstance(preload, str) else list(preload)
    names = [n.strip() for n in names if n.strip()]
    if names == [AUTO]:
        from mlops_nb.sweep.lazy_imports import expand

        return expand(notebook_imports(nb, cwd=cwd), nb)
    bad = [n for n in names if not _MODULE.match(n)]
    if bad:
        raise UsageError(f"--preload: not module names: {', '.join(bad)} (use 'pandas,sklearn').")
    _warn_fork_unsafe(names)
    if check:
        missing = [n for n in names if not _exists(n, cwd)]
        if missing:
            raise UsageError(
                f"--preload: no module {', '.join(map(repr, missing))} in this Python "
                "environment. Install it or remove it from --preload."
            )
    return tuple(dict.fromkeys(names))


def _warn_fork_unsafe(names: Sequence[str]) -> None:
    from mlops_nb.kernels.forksafety import split_unsafe

    unsafe = split_unsafe(names)[1]
    if unsafe and unsafe not in _WARNED:
        _WARNED.add(unsafe)
        log.warning(
            "--preload %s: not fork-safe, so each forked kernel imports it itself; "
            "with --no-fork it is preloaded into kernels started ahead instead",
            ",".join(unsafe),
        )


def _exists(module: str, cwd: Path | None) -> bool:
    top = module.split(".")[0]
    if importlib.util.find_spec(top) is not None:
        return True
    return cwd is not None and importlib.machinery.PathFinder.find_spec(top, [str(cwd)]) is not None


def notebook_imports(nb: Mapping[str, Any], *, cwd: Path | None = None) -> tuple[str, ...]:
    """Absolute modules imported at the top level of the notebook's code cells (IPython syntax read as IPython does)
    that can be found (in this environment or ``cwd``)."""
    found: list[str] = []
    for node in import_statements(nb):
        if isinstance(node, ast.Import):
            found.extend(a.name for a in node.names)
        elif node.module and not node.level:
            found.append(node.module)
    return tuple(dict.fromkeys(m for m in found if _exists(m, cwd)))
