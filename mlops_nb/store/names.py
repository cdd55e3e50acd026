"""Which sweeps, pipelines and notebooks a runs store knows, so that a filter naming one it does
not know is a mistake the user hears about, not an empty result.

A name is known when a run in the index has it (the same matching as the filters of
``mlops_nb.collect``: a sweep id or a prefix of one; a pipeline's ``name:``; a notebook's recorded
path, absolute path or file name, with or without ``.ipynb``), or, for sweeps and pipelines, when
their record is in the store (``runs/sweeps/<id>.json``, ``runs/pipelines/<name>/``).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Protocol

from mlops_nb.errors import UsageError
from mlops_nb.store import index
from mlops_nb.store.hints import command, path_word

SHOWN = 5  # names listed in the message; the rest are counted


class Named(Protocol):
    """The named filters of a ``results.filter.RunFilter``."""

    @property
    def notebook(self) -> str | None: ...
    @property
    def sweep(self) -> str | None: ...
    @property
    def pipeline(self) -> str | None: ...


def check_selection(runs_dir: Path, chosen: Named, matched: int) -> None:
    """What ``collect``, ``export`` and the report check once they have selected ``matched``
    runs with ``chosen``: a sweep prefix of several sweeps (``check_sweep``) and, when nothing
    matched, a name the store does not have (``check_named``); both are a ``UsageError``."""
    check_sweep(runs_dir, chosen.sweep)
    if not matched:
        check_named(
            runs_dir, notebook=chosen.notebook, sweep=chosen.sweep, pipeline=chosen.pipeline
        )


def check_sweep(runs_dir: Path, sweep: str | None) -> None:
    """Raise ``UsageError`` (one line listing the candidates) when ``sweep`` is a prefix of
    several sweep ids and not one of them: the runs of two sweeps are not merged unasked, as
    ``show`` refuses a run id prefix of several runs."""
    if not sweep:
        return
    names = [n for n in _sweeps(runs_dir) if n.startswith(sweep)]
    if len(names) > 1 and sweep not in names:
        raise UsageError(
            f"sweep {sweep!r} matches {len(names)} sweeps in {runs_dir}: {some(names)}; "
            "give more of the id."
        )


def check_named(
    runs_dir: Path,
    *,
    notebook: str | None = None,
    sweep: str | None = None,
    pipeline: str | None = None,
) -> None:
    """Raise ``UsageError`` (one line: what is not in the store, what is, how to list it) when
    a named sweep, pipeline or notebook is unknown to ``runs_dir``; return when all are known."""
    checks = (
        (
            "sweep",
            sweep,
            _sweeps,
            command("collect", "--columns", "id", "sweep", runs_dir=runs_dir),
        ),
        ("pipeline", pipeline, _pipelines, shlex.join(["ls", path_word(runs_dir / "pipelines")])),
        (
            "notebook",
            notebook,
            _notebooks,
            command("collect", "--columns", "id", "notebook", runs_dir=runs_dir),
        ),
    )
    for kind, wanted, known, how in checks:
        if not wanted:
            continue
        names = known(runs_dir)
        if any(_matches(kind, wanted, n) for n in names):
            continue
        if kind == "notebook" and _notebook_known(runs_dir, wanted):
            continue
        listing = f"its {kind}s: {some(names)} (list them: {how})" if names else "none yet"
        raise UsageError(f"no {kind} {wanted!r} in {runs_dir}; {listing}.")


def _matches(kind: str, wanted: str, name: str) -> bool:
    if kind == "sweep":
        return name.startswith(wanted)
    if kind == "notebook":  # recorded path, absolute path, file name (.ipynb optional)
        return wanted == name or Path(name).name in (wanted, f"{wanted}.ipynb")
    return name == wanted


def some(names: list[str]) -> str:
    """The first ``SHOWN`` names, then how many more: ``a, b, c, d, e and 3 more``."""
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


@index._fork_safe
def _distinct(runs_dir: Path, expr: str) -> list[str]:
    conn = index.open_index(runs_dir, sync=False)
    try:
        rows = conn.execute(f"SELECT DISTINCT {expr} FROM runs WHERE {expr} IS NOT NULL")
        return [str(r[0]) for r in rows]
    finally:
        conn.close()


def _sweeps(runs_dir: Path) -> list[str]:
    records = runs_dir / "sweeps"
    saved = [p.stem for p in records.glob("*.json")] if records.is_dir() else []
    return sorted({*_distinct(runs_dir, "sweep_id"), *saved})


def _pipelines(runs_dir: Path) -> list[str]:
    records = runs_dir / "pipelines"
    saved = [p.name for p in records.iterdir() if p.is_dir()] if records.is_dir() else []
    return sorted({*_distinct(runs_dir, "json_extract(pipeline, '$.name')"), *saved})


def _notebooks(runs_dir: Path) -> list[str]:
    return sorted(set(_distinct(runs_dir, "notebook")))


def _notebook_known(runs_dir: Path, wanted: str) -> bool:
    return str(Path(wanted).resolve()) in _distinct(runs_dir, "notebook_abspath")
