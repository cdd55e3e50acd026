"""Parameter sets of a sweep: a grid (cartesian product), a list (YAML or CSV), or a sample.

Pure functions over mappings, plus the two readers at the edge. Every set is checked against the
notebook's parameters before anything runs, and all problems are reported in one error.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_nb import yaml_io
from mlops_nb.errors import ConfigError, ParameterError, UsageError
from mlops_nb.notebook.params import NotebookParams, problems_for
from mlops_nb.notebook.values import typed_parse

ParamSet = dict[str, Any]


def grid_axes(grid: Mapping[str, Any], *, source: str = "grid") -> dict[str, list[Any]]:
    """``{name: [values]}``; a scalar is a fixed value (one choice), an empty list is an error."""
    if not isinstance(grid, Mapping) or not grid:
        raise ConfigError(
            f"{source}: a grid is a YAML mapping of parameter name to a list of values, "
            "e.g. 'lr: [0.01, 0.1]'."
        )
    axes: dict[str, list[Any]] = {}
    for name, values in grid.items():
        choices = list(values) if isinstance(values, (list, tuple)) else [values]
        if not choices:
            raise ConfigError(
                f"{source}: parameter {name!r} has an empty list of values; give at least one "
                "value, or leave the parameter out."
            )
        _once(str(name), axes, source)
        axes[str(name)] = choices
    return axes


def grid_size(axes: Mapping[str, Sequence[Any]]) -> int:
    return math.prod(len(v) for v in axes.values())


def grid_sets(axes: Mapping[str, Sequence[Any]]) -> list[ParamSet]:
    """The cartesian product, the last parameter varying fastest."""
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())]


def sample_sets(axes: Mapping[str, Sequence[Any]], n: int, seed: int) -> list[ParamSet]:
    """``n`` distinct sets drawn from the grid without building it (grids may be huge)."""
    total = grid_size(axes)
    if n <= 0:
        raise UsageError(f"--sample must be a positive number, got {n}.")
    if n > total:
        raise UsageError(
            f"--sample {n} asks for more sets than the grid holds ({total}). "
            f"Use --sample {total} or fewer, or drop --sample to run the whole grid."
        )
    picks = sorted(random.Random(seed).sample(range(total), n))
    return [_grid_item(axes, i) for i in picks]


def _grid_item(axes: Mapping[str, Sequence[Any]], index: int) -> ParamSet:
    item: ParamSet = {}
    for name in reversed(list(axes)):
        values = axes[name]
        index, r = divmod(index, len(values))
        item[name] = values[r]
    return dict(reversed(list(item.items())))


def load_grid(path: str | os.PathLike[str]) -> dict[str, list[Any]]:
    return grid_axes(yaml_io.load(path), source=str(path))


def load_list(path: str | os.PathLike[str], params: NotebookParams | None) -> list[ParamSet]:
    """A YAML list of mappings, or a CSV file with a header row (by the ``.csv`` suffix)."""
    p = Path(path)
    if p.suffix.lower() in (".csv", ".tsv"):
        return _read_csv(p, params)
    return list_sets(yaml_io.load(p), source=str(p))


def list_sets(data: Any, *, source: str = "list") -> list[ParamSet]:
    if not isinstance(data, list) or not data:
        raise ConfigError(
            f"{source}: a list of parameter sets is a non-empty YAML list of mappings, "
            "e.g. '- {lr: 0.1, C: 1}'."
        )
    sets: list[ParamSet] = []
    for i, item in enumerate(data, 1):
        if item is None:
            item = {}
        if not isinstance(item, Mapping):
            raise ConfigError(f"{source}: item {i} is not a mapping of name: value ({item!r}).")
        values: ParamSet = {}
        for k, v in item.items():
            values[_once(str(k), values, f"{source}: item {i}")] = v
        sets.append(values)
    return sets


def _once(name: str, seen: Mapping[str, Any], source: str) -> str:
    """``name``, unless ``seen`` has it already (``1`` and ``'1'`` in YAML are one parameter)."""
    if name in seen:
        raise ConfigError(f"{source}: parameter {name!r} is given twice; give each parameter once.")
    return name


def _read_csv(path: Path, params: NotebookParams | None) -> list[ParamSet]:
    """Cells are read like ``-p`` values (by each parameter's type); an empty cell = the default."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
            rows = list(csv.reader(f, dialect=dialect))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ConfigError(f"{path}: cannot read it as CSV: {e}.") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise ConfigError(f"{path}: a CSV list needs a header row of parameter names and 1+ rows.")
    header = [h.strip() for h in rows[0]]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise ConfigError(
            f"{path}:1: column {twice[0]!r} appears {header.count(twice[0])} times in the "
            "header; give each parameter one column."
        )
    sets: list[ParamSet] = []
    bad: dict[str, list[int]] = {}  # a cell no parameter can take -> the sets it is in
    for line, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            raise ConfigError(
                f"{path}:{line}: {len(row)} values for {len(header)} columns ({', '.join(header)})."
            )
        values: ParamSet = {}
        for h, c in zip(header, row, strict=True):
            try:
                if c != "":
                    values[h] = typed_parse(c, h, params, source=f"column {h!r}")
            except (ParameterError, ConfigError) as e:
                bad.setdefault(f"(line {line}) {e.message}", []).append(len(sets) + 1)
        sets.append(values)
    if bad:  # every bad set at once, those a parse refused and those the types refuse
        for i, values in enumerate(sets, 1):
            if params is not None and not any(i in ids for ids in bad.values()):
                for problem in problems_for(params, values):
                    bad.setdefault(problem, []).append(i)
        raise _invalid(str(path), bad, len(sets))
    return sets


def check_sets(sets: Sequence[ParamSet], params: NotebookParams, *, source: str) -> None:
    """Raise one ``ParameterError`` naming every bad set; identical problems are grouped."""
    by_problem: dict[str, list[int]] = {}
    for i, values in enumerate(sets, 1):
        for problem in problems_for(params, values):
            by_problem.setdefault(problem, []).append(i)
    if by_problem:
        raise _invalid(source, by_problem, len(sets))


def _invalid(source: str, by_problem: Mapping[str, list[int]], n: int) -> ParameterError:
    """One error naming every bad set: ``{problem: set numbers}`` of ``n`` sets."""
    bad = len({i for ids in by_problem.values() for i in ids})
    lines = [f"{source}: {bad} of {n} parameter sets are invalid (nothing was run):"]
    for problem, ids in sorted(by_problem.items(), key=lambda item: min(item[1])):
        lines.append(f"  set {_ranges(sorted(ids))}: {problem}")
    return ParameterError("\n".join(lines))


def _ranges(ids: Sequence[int]) -> str:
    if len(ids) > 6:
        return ", ".join(str(i) for i in ids[:5]) + f", ... ({len(ids)} sets)"
    return ", ".join(str(i) for i in ids)


def describe(values: Mapping[str, Any], *, width: int = 60) -> str:
    """``lr=0.1 C=2`` for progress lines (clipped)."""
    text = " ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in values.items())
    return text if len(text) <= width else text[: width - 1] + "…"
