"""A lint finding: one problem in one notebook (optionally one cell)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

UNREADABLE = "NB000"


@dataclass(frozen=True, order=True)
class Finding:
    """``path:cell N: CODE message``; ``cell`` is 1-based (top = 1) or None for the notebook."""

    path: str
    cell: int | None
    code: str
    message: str
    cell_id: str | None = None

    def __post_init__(self) -> None:
        if self.cell is not None and self.cell < 1:
            raise ValueError(f"cell numbers start at 1, got {self.cell}")

    def format(self) -> str:
        where = f"{self.path}:cell {self.cell}" if self.cell is not None else self.path
        return f"{where}: {self.code} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """``{"path", "cell", "code", "message", "cell_id"}`` (``--format json``)."""
        return dataclasses.asdict(self)

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.cell or 0, self.code)
