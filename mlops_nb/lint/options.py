"""Lint settings: ``[tool.mlops-nb.lint]`` in ``pyproject.toml``, then command-line overrides."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mlops_nb.config import check_keys
from mlops_nb.errors import ConfigError, UsageError

DEFAULT_MAX_CELL_LINES = 30
DEFAULT_MAX_OUTPUT_BYTES = 100_000
_UNITS = {"": 1, "b": 1, "k": 1_000, "kb": 1_000, "m": 1_000_000, "mb": 1_000_000}


@dataclass(frozen=True)
class LintOptions:
    """Which rules run and their limits. ``select``/``ignore`` hold codes or code prefixes."""

    select: tuple[str, ...] = ("NB",)
    ignore: tuple[str, ...] = ()
    max_cell_lines: int = DEFAULT_MAX_CELL_LINES
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    known_codes: frozenset[str] = field(default=frozenset(), compare=False)

    def enabled(self, code: str) -> bool:
        """Longest matching prefix wins, like ruff: ``select=NB`` + ``ignore=NB3`` drops NB301."""
        sel = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        ign = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return sel >= 0 and sel > ign

    def with_cli(
        self, *, select: Iterable[str] | None, ignore: Iterable[str] | None
    ) -> LintOptions:
        """Command-line ``--select`` replaces the configured selection; ``--ignore`` adds to it."""
        out = self
        if select:
            out = replace(out, select=_codes(select, self.known_codes, where="--select"))
        if ignore:
            extra = _codes(ignore, self.known_codes, where="--ignore")
            out = replace(out, ignore=out.ignore + extra)
        return out


def _codes(values: Iterable[str], known: frozenset[str], *, where: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in values:
        for code in str(raw).replace(",", " ").split():
            code = code.strip().upper()
            if code == "ALL":
                code = "NB"
            if known and not any(k.startswith(code) for k in known):
                valid = ", ".join(sorted(known))
                raise UsageError(f"{where}: unknown rule code {code!r}. Valid codes: {valid}.")
            out.append(code)
    return tuple(out)


def parse_size(value: Any, *, where: str) -> int:
    """``100000``, ``"100k"``, ``"2MB"`` -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        digits = text.rstrip("kmb")
        unit = text[len(digits) :]
        if digits.isdigit() and unit in _UNITS:
            return int(digits) * _UNITS[unit]
    raise ConfigError(f'{where}: {value!r} is not a size; write e.g. 100000, "100k" or "2MB".')


def _positive_int(value: Any, *, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise ConfigError(f"{where}: expected a positive whole number, got {value!r}.")


def _code_list(value: Any, known: frozenset[str], *, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f'{where}: expected a list of rule codes such as ["NB302"].')
    try:
        return _codes(value, known, where=where)
    except UsageError as e:
        raise ConfigError(e.message) from None


def options_from_table(
    table: Mapping[str, Any], *, known_codes: frozenset[str], where: str
) -> LintOptions:
    """``LintOptions`` from a snake_case ``[tool.mlops-nb.lint]`` table."""
    check_keys(table, {"select", "ignore", "max_cell_lines", "max_output_bytes"}, where=where)
    opts = LintOptions(known_codes=known_codes)
    if "select" in table:
        opts = replace(
            opts, select=_code_list(table["select"], known_codes, where=f"{where}: select")
        )
    if "ignore" in table:
        opts = replace(
            opts, ignore=_code_list(table["ignore"], known_codes, where=f"{where}: ignore")
        )
    if "max_cell_lines" in table:
        n = _positive_int(table["max_cell_lines"], where=f"{where}: max-cell-lines")
        opts = replace(opts, max_cell_lines=n)
    if "max_output_bytes" in table:
        size = parse_size(table["max_output_bytes"], where=f"{where}: max-output-bytes")
        opts = replace(opts, max_output_bytes=size)
    return opts
