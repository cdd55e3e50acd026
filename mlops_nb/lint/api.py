"""Lint notebooks: files and folders in, findings out (I/O at the edge, rules stay pure)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mlops_nb.config import ConfigFinder
from mlops_nb.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, NotebookError
from mlops_nb.lint.files import iter_notebook_paths
from mlops_nb.lint.findings import UNREADABLE, Finding
from mlops_nb.lint.options import LintOptions, options_from_table
from mlops_nb.lint.rules import CHECKS, RULES, view
from mlops_nb.notebook.io import read_notebook

KNOWN_CODES = frozenset(RULES)
T = TypeVar("T")


@dataclass
class LintReport:
    """What one lint invocation found."""

    findings: list[Finding] = field(default_factory=list)
    unreadable: list[Finding] = field(default_factory=list)
    checked: int = 0
    skipped: list[str] = field(default_factory=list)  # notes: files of a runs store left out

    @property
    def exit_code(self) -> int:
        if self.unreadable:
            return EXIT_USAGE
        return EXIT_FAILED if self.findings else EXIT_OK

    def each_readable(
        self, paths: Iterable[str | os.PathLike[str]], read: Callable[[Path], T]
    ) -> Iterator[tuple[Path, T]]:
        """``(path, read(path))`` for each notebook of ``paths`` (``lint.files``) that ``read``
        can read, counted in ``checked``; one it cannot (a ``NotebookError``) is reported in
        ``unreadable`` as NB000 and the others are still checked; a file of a runs store is
        left out with a note in ``skipped``."""
        for path in iter_notebook_paths(paths, skipped=self.skipped):
            try:
                nb = read(path)
            except NotebookError as e:
                self.unreadable.append(unreadable_finding(path, e))
                continue
            self.checked += 1
            yield path, nb


def lint_notebook(
    nb: Mapping[str, Any], *, path: str = "notebook", options: LintOptions | None = None
) -> list[Finding]:
    """Every enabled rule's findings for one notebook dict, top to bottom."""
    opts = options or LintOptions(known_codes=KNOWN_CODES)
    cells = nb["cells"]
    seen = view(nb)
    found: list[Finding] = []
    for codes, check in CHECKS:
        if not any(opts.enabled(c) for c in codes):
            continue
        for index, code, message in check(seen, opts):
            if opts.enabled(code):
                cell_id = _cell_id(cells[index]) if index is not None else None
                found.append(
                    Finding(path, None if index is None else index + 1, code, message, cell_id)
                )
    return sorted(found, key=Finding.sort_key)


def _cell_id(cell: Mapping[str, Any]) -> str | None:
    cid = cell.get("id")
    return cid if isinstance(cid, str) else None


class OptionsResolver:
    """Per-notebook options: the nearest ``[tool.mlops-nb.lint]``, then the command line."""

    def __init__(
        self, *, select: Sequence[str] | None = None, ignore: Sequence[str] | None = None
    ) -> None:
        self._finder = ConfigFinder()
        self._select, self._ignore = select, ignore
        self._cache: dict[Path | None, LintOptions] = {}
        # Validate the command line once, before any file is read.
        LintOptions(known_codes=KNOWN_CODES).with_cli(select=select, ignore=ignore)

    def for_path(self, path: str | os.PathLike[str]) -> LintOptions:
        pyproject, table = self._finder.section(path, "lint")
        opts = self._cache.get(pyproject)
        if opts is None:
            where = f"{pyproject} [tool.mlops-nb.lint]"
            base = options_from_table(table, known_codes=KNOWN_CODES, where=where)
            opts = base.with_cli(select=self._select, ignore=self._ignore)
            self._cache[pyproject] = opts
        return opts


def unreadable_finding(path: Path, error: NotebookError) -> Finding:
    message = error.message
    prefix = f"{path}: "
    if message.startswith(prefix):
        message = message[len(prefix) :]
    return Finding(str(path), None, UNREADABLE, message)


def lint_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
) -> LintReport:
    """Lint notebook files and folders; unreadable files are reported, the others still checked."""
    resolver = OptionsResolver(select=select, ignore=ignore)
    report = LintReport()
    for path, nb in report.each_readable(paths, read_notebook):
        report.findings.extend(lint_notebook(nb, path=str(path), options=resolver.for_path(path)))
    return report
