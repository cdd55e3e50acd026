"""Plan a sweep: expand and validate the parameter sets, prepare every run, find the done ones.

Everything here happens before any kernel starts, so every user error surfaces at once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_nb.errors import UsageError
from mlops_nb.execution import runner
from mlops_nb.notebook.io import code_sha256, read_notebook
from mlops_nb.notebook.params import parse_notebook_params
from mlops_nb.store import runs as store
from mlops_nb.sweep import record, sets
from mlops_nb.sweep.preload import notebook_imports, preload_modules

__all__ = ["Plan", "PlanOptions", "expand", "make_plan", "notebook_imports", "preload_modules"]


@dataclass(frozen=True)
class Plan:
    """A validated sweep: one prepared run (spec and key) per parameter set."""

    sweep_id: str
    notebook: Path
    runs_dir: Path
    sets: list[dict[str, Any]]  # the values given for each set (shared values merged in)
    specs: list[runner.RunSpec]
    keys: list[tuple[str, dict[str, Any]]]
    preload: tuple[str, ...]
    source: dict[str, Any]


def expand(
    notebook: str | os.PathLike[str],
    *,
    grid: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    sets_: Sequence[Mapping[str, Any]] | str | os.PathLike[str] | None = None,
    params: Mapping[str, Any] | None = None,
    sample: int | None = None,
    seed: int = 0,
    nb: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The parameter sets (shared ``params`` merged under each) and a description of the source."""
    path = Path(notebook)
    nb = nb if nb is not None else read_notebook(path)
    declared = parse_notebook_params(nb, source=str(path))
    if (grid is None) == (sets_ is None):
        raise UsageError("give exactly one of --grid FILE or --list FILE.")
    source: dict[str, Any] = {}
    if grid is not None:
        if isinstance(grid, Mapping):
            axes = sets.grid_axes(grid)
        else:
            axes, source["grid"] = sets.load_grid(grid), str(grid)
        if sample is not None:
            found = sets.sample_sets(axes, sample, seed)
            source.update(sample=sample, seed=seed)
        else:
            found = sets.grid_sets(axes)
    else:
        if sample is not None:
            raise UsageError("--sample draws from a grid; use it with --grid, not --list.")
        if isinstance(sets_, (str, os.PathLike)):
            found, source["list"] = sets.load_list(sets_, declared), str(sets_)
        else:
            found = sets.list_sets(list(sets_ or []))
    shared = dict(params or {})
    by = (
        f"the grid {source.get('grid', '')}"
        if grid is not None
        else f"the list {source.get('list', '')}"
    )
    _no_overlap(shared, found, by.strip())
    merged = [{**shared, **s} for s in found]
    sets.check_sets(merged, declared, source=str(path))
    if shared:
        source["shared"] = shared
    return merged, source


def _no_overlap(shared: Mapping[str, Any], found: Sequence[Mapping[str, Any]], by: str) -> None:
    """Raise ``UsageError`` when a shared value (``-p``/``-r``/``-y``/``-f``, ``params=``) names
    a parameter that ``by`` (the grid or list) also sets: one would be dropped without a word."""
    both = sorted({k for s in found for k in s if k in shared})
    if both:
        names = ", ".join(repr(k) for k in both)
        raise UsageError(
            f"parameter {names} is given both as a shared value (-p/-r/-y/-f, params=) and by "
            f"{by}; give it one way: drop the shared value, or take it out of the "
            f"{by.split()[1]}."
        )


@dataclass(frozen=True)
class PlanOptions:
    """``sweep()``'s keywords that make the plan, beside the notebook and the grid (see there)."""

    sets: Sequence[Mapping[str, Any]] | str | os.PathLike[str] | None = None
    params: Mapping[str, Any] | None = None
    sample: int | None = None
    seed: int = 0
    runs_dir: str | os.PathLike[str] | None = None
    timeout: float | None = None
    preload: str | Sequence[str] | None = None
    name: str | None = None
    cwd: str | os.PathLike[str] | None = None
    kernel_name: str | None = None
    extra: Mapping[str, Any] | None = None


def make_plan(
    notebook: str | os.PathLike[str],
    found: list[dict[str, Any]],
    source: dict[str, Any],
    *,
    nb: dict[str, Any],
    options: PlanOptions,
    absolute: bool,
) -> Plan:
    """One prepared run per set of ``found`` (``expand``); ``absolute``: the notebook's path
    made absolute (for workers elsewhere). Raises what ``runner.prepare`` raises."""
    o = options
    path = Path(notebook)
    rdir = store.resolve_runs_dir(o.runs_dir).absolute()
    sid = record.sweep_id(path, code_sha256(nb), found)
    nb_path = path.absolute() if absolute else path
    work = Path(o.cwd).resolve() if o.cwd is not None else (path.parent or Path(".")).resolve()
    specs = [
        runner.prepare(
            nb_path,
            values,
            runs_dir=rdir,
            name=o.name,
            timeout=o.timeout,
            cwd=work,
            kernel_name=o.kernel_name,
            sweep_id=sid,
            nb=nb,
            pipeline=(o.extra or {}).get("pipeline"),
            extra={k: v for k, v in (o.extra or {}).items() if k != "pipeline"},
        )
        for values in found
    ]
    keys = [runner.key_of(s) for s in specs]
    modules = preload_modules(o.preload, nb, check=o.kernel_name in (None, "python3"), cwd=work)
    return Plan(sid, path, rdir, found, specs, keys, modules, source)
