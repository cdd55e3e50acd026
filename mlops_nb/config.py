"""Project settings from ``pyproject.toml``: the ``[tool.mlops-nb.<section>]`` tables.

The file is found by walking up from a path (a notebook or a folder), like ruff does: the nearest
``pyproject.toml`` with a ``[tool.mlops-nb]`` table wins. Keys may be written ``kebab-case`` or
``snake_case``; they are returned in snake_case. One ``ConfigFinder`` per command invocation caches
what it read, so checking 500 notebooks in one folder reads one file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_nb.errors import ConfigError

TOOL = "mlops-nb"


def normalize_keys(table: Mapping[str, Any]) -> dict[str, Any]:
    """``{"max-cell-lines": 3}`` -> ``{"max_cell_lines": 3}``."""
    return {str(k).replace("-", "_"): v for k, v in table.items()}


def read_tool_table(pyproject: Path) -> dict[str, Any] | None:
    """The ``[tool.mlops-nb]`` table of one ``pyproject.toml`` (None when it has none)."""
    try:
        with pyproject.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{pyproject}: invalid TOML ({e}). Fix the file.") from None
    except OSError as e:
        raise ConfigError(f"{pyproject}: cannot read it ({e.strerror}).") from None
    tool = data.get("tool", {})
    table = tool.get(TOOL) if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.{TOOL}] must be a table.")
    return table


class ConfigFinder:
    """Finds and caches ``[tool.mlops-nb.*]`` settings for paths."""

    def __init__(self) -> None:
        self._by_folder: dict[Path, tuple[Path | None, dict[str, Any]]] = {}

    def tool_table(self, start: str | os.PathLike[str]) -> tuple[Path | None, dict[str, Any]]:
        """The nearest ``pyproject.toml`` above ``start`` with a ``[tool.mlops-nb]`` table."""
        p = Path(os.path.abspath(start))
        return self._find_in(p if p.is_dir() else p.parent)

    def _find_in(self, folder: Path) -> tuple[Path | None, dict[str, Any]]:
        found = self._by_folder.get(folder)
        if found is None:
            candidate = folder / "pyproject.toml"
            table = read_tool_table(candidate) if candidate.is_file() else None
            if table is not None:
                found = (candidate, table)
            elif folder.parent == folder:
                found = (None, {})
            else:
                found = self._find_in(folder.parent)
            self._by_folder[folder] = found
        return found

    def section(
        self, start: str | os.PathLike[str], name: str
    ) -> tuple[Path | None, dict[str, Any]]:
        """``[tool.mlops-nb.<name>]`` for ``start`` (snake_case keys; empty when absent)."""
        pyproject, table = self.tool_table(start)
        sub = table.get(name, {})
        if not isinstance(sub, dict):
            raise ConfigError(f"{pyproject}: [tool.{TOOL}.{name}] must be a table.")
        return pyproject, normalize_keys(sub)


def check_keys(table: Mapping[str, Any], valid: set[str], *, where: str) -> None:
    """Reject unknown keys, listing the valid ones (in the kebab-case users write)."""
    unknown = sorted(set(table) - valid)
    if unknown:
        names = ", ".join(k.replace("_", "-") for k in sorted(valid))
        bad = ", ".join(k.replace("_", "-") for k in unknown)
        raise ConfigError(f"{where}: unknown setting(s) {bad}. Valid settings: {names}.")
