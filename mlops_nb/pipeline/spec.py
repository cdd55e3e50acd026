"""``pipeline.yaml``: read and validate the DAG of notebook steps.

    name: example                 # optional (default: the folder's name)
    steps:
      eda:
        notebook: eda.ipynb
        params: {data: "builtin:rare_events"}
      train:
        notebook: train.ipynb
        upstream: [eda]
        grid: {model: [logreg, random_forest]}   # the step is a sweep...
        select: {metric: f1, mode: max}          # ...and hands its best run downstream
      report:
        report: {output: report.html}            # the HTML report of this pipeline's runs
        upstream: [train]

Every problem is reported before anything runs: unknown keys, unknown upstream steps, cycles (the
cycle is named), missing notebooks, parameters the notebook does not declare.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb import yaml_io
from mlops_nb.errors import ConfigError
from mlops_nb.pipeline.grid_options import parse_grid_select
from mlops_nb.pipeline.report_options import parse_report

DEFAULT_FILE = Path("notebooks") / "pipeline.yaml"
STEP_KEYS = {
    "notebook",
    "params",
    "upstream",
    "grid",
    "select",
    "report",
    "timeout",
    "show",
    "gate",
}
STEP_KEYS |= {"kernel"}  # the Jupyter kernel of a step, like `run -k`
TOP_KEYS = {"name", "steps", "runs_dir", "workers"}
UPSTREAM_PARAM = "upstream"


@dataclass(frozen=True)
class Step:
    """One node of the DAG: a notebook run (or a sweep with ``grid``), or a ``report``."""

    name: str
    notebook: Path | None
    params: dict[str, Any] = field(default_factory=dict)
    upstream: tuple[str, ...] = ()
    grid: dict[str, list[Any]] | None = None
    select: dict[str, str] | None = None
    report: dict[str, Any] | None = None
    timeout: float | None = None
    show: tuple[str, ...] = ()
    kernel: str | None = None  # a Jupyter kernel name, like papermill's -k/--kernel
    gate: dict[str, Any] | None = None  # see mlops_nb.pipeline.gate

    @property
    def kind(self) -> str:
        if self.gate is not None:
            return "gate"
        return "report" if self.report is not None else ("sweep" if self.grid else "notebook")


@dataclass(frozen=True)
class Pipeline:
    path: Path
    name: str
    steps: dict[str, Step]
    runs_dir: Path | None = None
    workers: int | None = None

    @property
    def root(self) -> Path:
        return self.path.parent

    def order(self) -> list[str]:
        """Steps in a topological order (file order among independent steps)."""
        done: list[str] = []
        remaining = list(self.steps)
        while remaining:
            for name in remaining:
                if all(u in done for u in self.steps[name].upstream):
                    done.append(name)
                    remaining.remove(name)
                    break
        return done

    def levels(self) -> list[list[str]]:
        """Steps grouped into waves that can run at the same time."""
        depth: dict[str, int] = {}
        for name in self.order():
            ups = self.steps[name].upstream
            depth[name] = 1 + max((depth[u] for u in ups), default=-1)
        return [
            [n for n in self.order() if depth[n] == d]
            for d in range(max(depth.values(), default=-1) + 1)
        ]

    def downstream(self, name: str) -> set[str]:
        out: set[str] = set()
        for n in self.order():
            if name in self.steps[n].upstream or out & set(self.steps[n].upstream):
                out.add(n)
        return out


def _run_name_problems(name: str) -> list[str]:
    """A step's runs are named after it: a name a run reference would read as something else
    (``latest``) or nothing is refused here, before any step runs."""
    from mlops_nb.errors import UsageError
    from mlops_nb.store.lookup import check_name

    try:
        check_name(name)
    except UsageError as e:
        return [f"step {name!r}: {e.message}"]
    return []


def _did_you_mean(word: str, valid: set[str] | list[str]) -> str:
    close = difflib.get_close_matches(word, sorted(valid), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def locate(path: str | os.PathLike[str] | None = None) -> Path:
    """The pipeline file ``path`` names: itself, ``DIR/pipeline.yaml`` for a folder that has one
    (as ``dvc`` finds ``dvc.yaml`` in a folder), or ``DEFAULT_FILE`` for None. ``ConfigError``:
    no such file, a folder without ``pipeline.yaml`` (naming its YAML files), a notebook."""
    p = Path(path) if path is not None else DEFAULT_FILE
    if p.is_dir():
        inside = p / DEFAULT_FILE.name
        if inside.is_file():
            return inside
        found = sorted(f.name for f in p.iterdir() if f.suffix in (".yaml", ".yml"))
        listed = f" (its YAML files: {', '.join(found)})" if found else ""
        raise ConfigError(
            f"{p} is a folder with no {DEFAULT_FILE.name}{listed}; pass the pipeline file's path."
        )
    if not p.exists():
        hint = " (the default; pass the file's path)" if path is None else ""
        raise ConfigError(f"{p}: no pipeline file{hint}. Create one or run `mlops-nb init`.")
    if p.suffix == ".ipynb":
        raise ConfigError(
            f"{p} is a notebook, not a pipeline file; pass a pipeline's YAML file "
            f"(e.g. {p.parent / DEFAULT_FILE.name}), or run the notebook with `mlops-nb run`."
        )
    return p


def load(path: str | os.PathLike[str] | None = None) -> Pipeline:
    """Read and validate a pipeline file (or ``DIR/pipeline.yaml``: ``locate``); one
    ``ConfigError`` lists every problem."""
    p = locate(path)
    data = yaml_io.load(p)
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: a pipeline file is a YAML mapping with a 'steps:' mapping.")
    for key in set(data) - TOP_KEYS:
        problems.append(f"unknown key {key!r}{_did_you_mean(key, TOP_KEYS)}")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, dict) or not raw_steps:
        problems.append("'steps:' must be a mapping of step name to step")
        raw_steps = {}
    steps = {}
    for name, raw in raw_steps.items():
        problems += _run_name_problems(str(name))
        step = _step(p.parent, str(name), raw, problems)
        if step is not None:
            steps[step.name] = step
    for step in steps.values():
        for up in step.upstream:
            if up not in raw_steps:
                problems.append(
                    f"step {step.name!r}: unknown upstream step {up!r}{_did_you_mean(up, list(raw_steps))}"
                )
    if not problems:
        cycle = find_cycle(steps)
        if cycle:
            problems.append("the steps form a cycle: " + " -> ".join(cycle))
    if not problems:
        problems += _check_params(steps)
    if problems:
        raise ConfigError(f"{p}: invalid pipeline:\n  " + "\n  ".join(problems))
    name = str(data.get("name") or p.resolve().parent.name)
    from mlops_nb.store.runs import slug

    if slug(name) != name:
        raise ConfigError(
            f"{p}: invalid pipeline: name {name!r} must be a plain folder name (letters, digits, "
            f"'.', '_', '-'), e.g. {slug(name) or 'example'!r}."
        )
    runs_dir = data.get("runs_dir")
    workers = data.get("workers")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ConfigError(f"{p}: invalid pipeline: 'workers' must be a whole number >= 1.")
    return Pipeline(
        path=p,
        name=name,
        steps=steps,
        runs_dir=(p.parent / str(runs_dir)) if runs_dir else None,
        workers=int(workers) if isinstance(workers, int) else None,
    )


def _step(root: Path, name: str, raw: Any, problems: list[str]) -> Step | None:
    where = f"step {name!r}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping with 'notebook:' (or 'report:')")
        return None
    for key in set(raw) - STEP_KEYS:
        problems.append(f"{where}: unknown key {key!r}{_did_you_mean(key, STEP_KEYS)}")
    upstream = _upstream(raw, where, problems)
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        problems.append(f"{where}: 'params' must be a mapping of name: value")
        params = {}
    if UPSTREAM_PARAM in params:
        problems.append(f"{where}: 'upstream' is set by the pipeline; do not give it in params")
    grid, select = parse_grid_select(raw, where, problems)
    show = _show(raw, where, problems)
    gate = None
    if "gate" in raw:
        from mlops_nb.pipeline.gate import parse_gate

        gate = parse_gate(raw["gate"], upstream, where, problems)
    report = parse_report(raw["report"], where, problems) if "report" in raw else None
    return Step(
        name=name,
        notebook=_notebook(root, raw, where, problems),
        params=dict(params),
        upstream=upstream,
        grid=grid,
        select=select,
        report=report,
        timeout=_timeout(raw, where, problems),
        show=show,
        kernel=_kernel(raw, where, problems),
        gate=gate,
    )


def _show(raw: dict[str, Any], where: str, problems: list[str]) -> tuple[str, ...]:
    show = raw.get("show") or []
    show = [show] if isinstance(show, str) else show
    if not isinstance(show, list) or not all(isinstance(s, str) and s.strip() for s in show):
        problems.append(f"{where}: 'show' must be a list of scrap names, e.g. [f1, auc]")
        return ()
    return tuple(show)


def _upstream(raw: dict[str, Any], where: str, problems: list[str]) -> tuple[str, ...]:
    upstream = raw.get("upstream") or []
    if isinstance(upstream, str):
        upstream = [upstream]
    if not isinstance(upstream, list):
        problems.append(f"{where}: 'upstream' must be a list of step names")
        upstream = []
    return tuple(str(u) for u in upstream)


def _notebook(root: Path, raw: dict[str, Any], where: str, problems: list[str]) -> Path | None:
    """The notebook of a notebook or sweep step (None for a report or gate step)."""
    notebook = raw.get("notebook")
    other = "report" if "report" in raw else ("gate" if "gate" in raw else None)
    if other is not None:
        if notebook:
            problems.append(f"{where}: give either 'notebook' or '{other}', not both")
        return None
    if not notebook:
        problems.append(f"{where}: missing 'notebook:' (the .ipynb to run, relative to the file)")
        return None
    nb_path = root / str(notebook)
    if not nb_path.is_file():
        problems.append(f"{where}: notebook {str(notebook)!r} not found (looked at {nb_path})")
    return nb_path


def _timeout(raw: dict[str, Any], where: str, problems: list[str]) -> float | None:
    timeout = raw.get("timeout")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        timeout = math.nan
    if not 0 < timeout < math.inf:
        problems.append(f"{where}: 'timeout' must be a finite number of seconds > 0")
        return None
    return float(timeout)


def _kernel(raw: dict[str, Any], where: str, problems: list[str]) -> str | None:
    kernel = raw.get("kernel")
    if kernel is not None and (not isinstance(kernel, str) or not kernel.strip()):
        problems.append(f"{where}: 'kernel' must be a Jupyter kernel name, e.g. python3")
        return None
    return kernel


def find_cycle(steps: Mapping[str, Step]) -> list[str] | None:
    """A cycle as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for up in steps[n].upstream:
            if state.get(up) == 1:
                return [*stack[stack.index(up) :], up]
            if up not in state:
                found = visit(up)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for name in steps:
        if name not in state:
            found = visit(name)
            if found:
                return list(reversed(found))
    return None


def _check_params(steps: Mapping[str, Step]) -> list[str]:
    from mlops_nb.errors import MlopsNbError
    from mlops_nb.kernels.kernelspec import notebook_kernel_name
    from mlops_nb.notebook.io import read_notebook
    from mlops_nb.notebook.params import parse_notebook_params, problems_for
    from mlops_nb.pipeline.shows import unglued_problems

    problems: list[str] = []
    for step in steps.values():
        if step.notebook is None:
            continue
        try:
            nb = read_notebook(step.notebook)
            declared = parse_notebook_params(nb, source=str(step.notebook))
        except MlopsNbError as e:
            problems.append(f"step {step.name!r}: {e.message}")
            continue
        if step.kernel is None and notebook_kernel_name(nb) is None:
            problems.append(
                f"step {step.name!r}: its notebook names no kernel (metadata.kernelspec is "
                "missing); add `kernel: python3` (or another kernel name) to the step"
            )
        problems += unglued_problems(step, nb, _did_you_mean)
        names = set(declared.names)
        if step.upstream and UPSTREAM_PARAM not in names:
            problems.append(
                f"step {step.name!r}: has upstream steps but its notebook declares no "
                f"'{UPSTREAM_PARAM}' parameter to receive their run folders "
                f"(add `{UPSTREAM_PARAM}: dict | None = None` to its parameters cell)"
            )
        # each grid value on its own (the product can be large; every value is checked)
        trials: list[dict[str, Any]] = [{}]
        trials += [{k: v} for k, vs in (step.grid or {}).items() for v in vs]
        seen: set[str] = set()
        for values in trials:
            for problem in problems_for(declared, {**step.params, **values}):
                if problem not in seen:
                    seen.add(problem)
                    problems.append(f"step {step.name!r}: {problem}")
    return problems
