"""A sweep step's ``grid:`` and ``select:``, checked when the pipeline file is read, so that a
grid that cannot run (an axis with no values) or a step that cannot pick its best run (no
``select``) is refused before anything runs instead of failing after a whole sweep."""

from __future__ import annotations

from typing import Any

from mlops_nb.errors import ConfigError

SELECT_SHAPE = "'select' is {metric: NAME, mode: max|min} (NAME: a number the notebook glues)"


def parse_grid_select(
    raw: dict[str, Any], where: str, problems: list[str]
) -> tuple[dict[str, list[Any]] | None, dict[str, str] | None]:
    """``(grid axes, select)`` of a step mapping, each None when absent or invalid; problems
    are appended. The axes are the sweep's (``sweep.sets.grid_axes``): a scalar is one value,
    an empty list is refused."""
    from mlops_nb.sweep.sets import grid_axes

    grid = raw.get("grid")
    if grid is not None:
        if not isinstance(grid, dict) or not grid:
            problems.append(f"{where}: 'grid' must map parameter names to lists of values")
            grid = None
        else:
            try:
                grid = grid_axes(grid, source=f"{where}: grid")
            except ConfigError as e:
                problems.append(e.message.rstrip("."))
                grid = None
    select = _select(raw.get("select"), where, problems)
    if select and "grid" not in raw:
        problems.append(f"{where}: 'select' only applies to a step with a 'grid'")
    elif grid and "select" not in raw:
        problems.append(
            f"{where}: a grid step needs select: {{metric: NAME, mode: max|min}} to hand its "
            "best run downstream (NAME: a number the notebook glues)"
        )
    return grid, select


def _select(select: Any, where: str, problems: list[str]) -> dict[str, str] | None:
    if select is None:
        return None
    if (
        not isinstance(select, dict)
        or not isinstance(select.get("metric"), str)
        or not select["metric"].strip()
        or select.get("mode", "max") not in ("max", "min")
        or set(select) - {"metric", "mode"}
    ):
        problems.append(f"{where}: {SELECT_SHAPE}")
        return None
    return {"metric": select["metric"], "mode": select.get("mode", "max")}
