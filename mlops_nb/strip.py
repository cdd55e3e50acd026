"""``mlops-nb strip``: outputs, execution counts and volatile metadata go; sources, order, ids and
tags stay. One process for all files; nbstripout is reached through ``nbstripout_adapter``.

A notebook lint rejects for its execution (run out of order, cells skipped, error outputs) is not
stripped: that would erase the evidence (``lint.evidence``). Settings that would make lint reject
the stripped notebook are refused. nbformat 1-3 notebooks are stripped in their own version.

A file that needs no change is not rewritten (its mtime is kept). A changed file is written the
way ``nbformat.write`` writes it, atomically, with its permissions kept.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb.config import ConfigFinder, check_keys
from mlops_nb.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, ConfigError, NotebookError
from mlops_nb.jupytext_adapter import is_text_notebook
from mlops_nb.lint.api import OptionsResolver
from mlops_nb.lint.evidence import evidence, introduced
from mlops_nb.lint.files import iter_notebook_paths
from mlops_nb.lint.findings import Finding
from mlops_nb.lint.options import parse_size
from mlops_nb.nbstripout_adapter import StripOptions, notebook_text, strip_notebook
from mlops_nb.notebook.io import atomic_write_text, cell_lists, read_json, upgraded

__all__ = ["StripOptions", "StripReport", "changes", "strip_file", "strip_notebook", "strip_paths"]

_BOOLS = {"keep_output", "keep_count", "drop_empty_cells", "strip_init_cells"}
_LISTS = {
    "extra_keys",
    "keep_metadata_keys",
    "drop_tagged_cells",
    "drop_output_types",
    "keep_output_types",
}


@dataclass
class StripReport:
    """What one strip invocation did (or, with ``check``, would do)."""

    changed: list[tuple[str, str]] = field(default_factory=list)  # (path, what changed)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    kept: list[Finding] = field(default_factory=list)  # why notebooks were left as saved
    checked: int = 0
    skipped: list[str] = field(default_factory=list)  # notes: files of a runs store left out

    @property
    def exit_code(self) -> int:
        if self.unreadable:
            return EXIT_USAGE
        return EXIT_FAILED if self.changed or self.kept else EXIT_OK


def options_from_table(table: Mapping[str, Any], *, where: str) -> StripOptions:
    """``StripOptions`` from a snake_case ``[tool.mlops-nb.strip]`` table."""
    check_keys(table, _BOOLS | _LISTS | {"max_size"}, where=where)
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("_", "-")
        if key in _BOOLS:
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: {name} must be true or false, got {value!r}.")
            kwargs[key] = value
        elif key in _LISTS:
            items = value.split() if isinstance(value, str) else value
            if not (isinstance(items, list) and all(isinstance(v, str) for v in items)):
                raise ConfigError(f"{where}: {name} must be a list of strings, got {value!r}.")
            kwargs[key] = tuple(items)
        else:
            kwargs[key] = parse_size(value, where=f"{where}: {name}")
    try:
        return StripOptions(**kwargs)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e.message}") from None


class StripOptionsResolver:
    """Per-notebook options from the nearest ``[tool.mlops-nb.strip]``."""

    def __init__(self) -> None:
        self._finder = ConfigFinder()
        self._cache: dict[Path | None, StripOptions] = {}

    def for_path(self, path: str | os.PathLike[str]) -> StripOptions:
        pyproject, table = self._finder.section(path, "strip")
        opts = self._cache.get(pyproject)
        if opts is None:
            opts = options_from_table(table, where=f"{pyproject} [tool.mlops-nb.strip]")
            self._cache[pyproject] = opts
        return opts


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """What stripping changed, in words ("3 outputs, 2 execution counts, metadata")."""
    old = [c for cells in cell_lists(before) for c in cells if isinstance(c, dict)]
    new = [c for cells in cell_lists(after) for c in cells if isinstance(c, dict)]
    parts: list[str] = []
    if len(new) != len(old):
        parts.append(f"{len(old) - len(new)} cells dropped")
    outputs = sum(len(c.get("outputs") or []) for c in old) - sum(
        len(c.get("outputs") or []) for c in new
    )
    counts = sum(1 for c in old if _count(c) is not None) - sum(
        1 for c in new if _count(c) is not None
    )
    if outputs:
        parts.append(f"{outputs} output{'s' if outputs != 1 else ''}")
    if counts:
        parts.append(f"{counts} execution count{'s' if counts != 1 else ''}")
    meta_changed = before.get("metadata") != after.get("metadata") or any(
        a.get("metadata") != b.get("metadata") for a, b in zip(old, new, strict=False)
    )
    if meta_changed:
        parts.append("metadata")
    return ", ".join(parts) or "output counts"


def _count(cell: Mapping[str, Any]) -> Any:
    return cell.get("execution_count", cell.get("prompt_number"))


def write_preserving_mode(path: Path, text: str) -> None:
    """Atomic write (temp file in the same folder, then rename) that keeps the file's mode.

    Links are written through (``atomic_write_text``): a symbolic link stays a link and its
    target is stripped, as with nbstripout, which writes with ``open``.
    """
    atomic_write_text(path, text, mode=stat.S_IMODE(Path(os.path.realpath(path)).stat().st_mode))


def strip_file(
    path: Path, nb: Mapping[str, Any], *, options: StripOptions, check: bool
) -> str | None:
    """Strip one already-read notebook (as stored: ``read_json(path, upgrade=False)``); write it
    unless ``check``. What changed, or None.

    Raises ``NotebookError`` when the settings would make lint reject the stripped notebook.
    """
    stripped = strip_notebook(nb, options=options)
    if stripped == nb:
        return None
    made = (
        introduced(
            upgraded(dict(nb), source=str(path)),
            upgraded(stripped, source=str(path)),
            path=str(path),
        )
        if options.removes_more_than_outputs()
        else []
    )
    if made:
        what = "; ".join(f"{f.code} {f.message}" for f in made[:3])
        raise NotebookError(
            f"{path}: not stripped: with these [tool.mlops-nb.strip] settings the stripped "
            f"notebook would fail lint ({what}). Change the settings in the nearest pyproject.toml."
        )
    if not check:
        try:
            write_preserving_mode(path, notebook_text(stripped))
        except OSError as e:
            raise NotebookError(
                f"{path}: cannot write the stripped notebook: {e.strerror}."
            ) from None
    return changes(nb, stripped)


def strip_paths(paths: Iterable[str | os.PathLike[str]], *, check: bool = False) -> StripReport:
    """Strip notebook files and folders in this process; unreadable files are reported."""
    resolver = StripOptionsResolver()
    lint_options = OptionsResolver()
    report = StripReport()
    for path in iter_notebook_paths(paths, skipped=report.skipped):
        if is_text_notebook(path) and path.is_file():
            report.checked += 1  # a Jupytext text notebook has no outputs: left alone
            continue
        try:
            nb = read_json(path, upgrade=False)
            found = evidence(
                upgraded(nb, source=str(path)), path=str(path), options=lint_options.for_path(path)
            )
            what = (
                None
                if found
                else strip_file(path, nb, options=resolver.for_path(path), check=check)
            )
        except NotebookError as e:
            report.unreadable.append((str(path), _without_prefix(e.message, path)))
            continue
        report.checked += 1
        report.kept.extend(found)
        if what is not None:
            report.changed.append((str(path), what))
    return report


def _without_prefix(message: str, path: Path) -> str:
    prefix = f"{path}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
