"""A notebook's parameters: read from the ``parameters`` cell with ``ast``, validated, injected.

Pure functions over notebook dicts; no kernel, no papermill.
"""

from __future__ import annotations

import ast
import copy
import difflib
import functools
import io
import json
import math
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_nb import strict_json
from mlops_nb.errors import ParameterError
from mlops_nb.notebook.io import INJECTED_TAG, PARAMETERS_TAG, source_of, tags_of
from mlops_nb.notebook.param_types import ParamType, annotation_type, infer_type
from mlops_nb.notebook.syntax import python_source


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a notebook."""

    name: str
    type: ParamType
    default: Any = None
    help: str = ""
    default_source: str = ""  # the default as written in the cell
    literal_default: bool = True  # False when the default is an expression (e.g. ``Path.cwd()``)
    lineno: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": str(self.type),
            "default": self.default if self.literal_default else None,
            "default_source": self.default_source,
            "help": self.help,
        }


@dataclass(frozen=True)
class NotebookParams:
    """The parameters cell of a notebook (``cell_index`` is None when there is none)."""

    cell_index: int | None
    specs: tuple[ParamSpec, ...] = ()
    non_literal: tuple[str, ...] = field(default=())  # statements that are not assignments

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    def get(self, name: str) -> ParamSpec | None:
        for s in self.specs:
            if s.name == name:
                return s
        return None

    def defaults(self) -> dict[str, Any]:
        # copies: specs are cached and shared, their list/dict defaults must not be mutated
        return {s.name: copy.deepcopy(s.default) for s in self.specs if s.literal_default}


def find_parameters_cell(nb: Mapping[str, Any]) -> int | None:
    """Index of the first code cell tagged ``parameters``."""
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in tags_of(cell):
            return i
    return None


def parse_notebook_params(nb: Mapping[str, Any], *, source: str = "notebook") -> NotebookParams:
    """Read the parameters of a notebook (a dict in nbformat 4)."""
    index = find_parameters_cell(nb)
    if index is None:
        return NotebookParams(cell_index=None)
    specs, others = parse_parameters_source(source_of(nb["cells"][index]), source=source)
    return NotebookParams(cell_index=index, specs=specs, non_literal=others)


def _comments(src: str) -> dict[int, str]:
    out: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


@functools.lru_cache(maxsize=256)
def parse_parameters_source(
    src: str, *, source: str = "notebook"
) -> tuple[tuple[ParamSpec, ...], tuple[str, ...]]:
    """Parameters declared in a parameters cell's source, and the statements that are not."""
    clean = python_source(src)  # IPython syntax read as IPython reads it (notebook.syntax)
    try:
        tree = ast.parse(clean)
    except SyntaxError as e:
        raise ParameterError(
            f"{source}: the parameters cell is not valid Python (line {e.lineno}: {e.msg}). "
            "Fix the cell so it holds only assignments like `alpha: float = 0.5  # help`."
        ) from None
    comments = _comments(clean)
    specs: dict[str, ParamSpec] = {}
    others: list[str] = []
    for stmt in tree.body:
        if _typing_import(stmt):
            continue  # `from typing import Literal`: needed by annotations, declares nothing
        targets: list[str] = []
        annotation: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            if all(isinstance(t, ast.Name) for t in stmt.targets):
                targets = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
            value = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            targets, annotation, value = [stmt.target.id], stmt.annotation, stmt.value
        if not targets or value is None:
            others.append(_as_written(src, clean, stmt))
            continue
        help_text = comments.get(stmt.end_lineno or stmt.lineno) or comments.get(stmt.lineno, "")
        for name in targets:
            specs[name] = _spec(name, annotation, value, help_text, clean, stmt.lineno)
    return tuple(specs.values()), tuple(others)


def _as_written(src: str, clean: str, stmt: ast.stmt) -> str:
    """A statement as the user wrote it (a magic, not the call IPython turns it into)."""
    if clean == src:
        return ast.get_source_segment(clean, stmt) or type(stmt).__name__
    lines = src.splitlines()[stmt.lineno - 1 : stmt.end_lineno or stmt.lineno]
    return "\n".join(ln.strip() for ln in lines) or type(stmt).__name__


def _typing_import(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.ImportFrom):
        return stmt.module in ("typing", "typing_extensions") and stmt.level == 0
    return isinstance(stmt, ast.Import) and all(
        a.name in ("typing", "typing_extensions") for a in stmt.names
    )


def _spec(
    name: str, annotation: ast.expr | None, value: ast.expr, help_text: str, src: str, lineno: int
) -> ParamSpec:
    default_source = ast.get_source_segment(src, value) or ""
    try:
        default = ast.literal_eval(value)
        literal = True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        default, literal = None, False
    ptype = annotation_type(annotation) if annotation is not None else infer_type(default, literal)
    if isinstance(default, tuple):
        default = list(default)  # as values arrive (JSON, YAML) and as the record keeps them
    return ParamSpec(name, ptype, default, help_text, default_source, literal, lineno)


# --- validation -----------------------------------------------------------------------------


def did_you_mean(name: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def validate(
    params: NotebookParams, values: Mapping[str, Any], *, source: str = "notebook"
) -> dict[str, Any]:
    """Check ``values`` against the notebook's parameters; return defaults merged with values.

    Raises one ``ParameterError`` listing every problem.
    """
    problems = problems_for(params, values)
    if problems:
        raise ParameterError(f"{source}: " + "\n  ".join(problems))
    return {**params.defaults(), **coerced(params, values)}


def coerced(params: NotebookParams, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` in their declared types, as the notebook gets them (an int given to a
    ``float`` parameter is a float; ``list[float]`` elements too); undeclared ones as given."""
    out = {}
    for name, value in values.items():
        spec = params.get(name)
        out[name] = spec.type.coerce(value) if spec else value
    return out


def problems_for(params: NotebookParams, values: Mapping[str, Any]) -> list[str]:
    """Every problem with ``values`` (empty when they are valid)."""
    if params.cell_index is None:
        if values:
            return [
                "the notebook has no parameters cell, so it takes no parameters (given: "
                + ", ".join(sorted(values))
                + "). Fix: tag the cell holding its settings with 'parameters' "
                "(Jupyter: View > Cell toolbar > Tags)."
            ]
        return []
    problems: list[str] = []
    valid = params.names
    for name, value in values.items():
        spec = params.get(name)
        if spec is None:
            problems.append(
                f"unknown parameter {name!r}.{did_you_mean(name, valid)} "
                f"Valid parameters: {', '.join(valid) or '(none)'}."
            )
            continue
        literal_problem = literal_problem_of(value)
        if literal_problem:
            problems.append(f"parameter {name!r}: {literal_problem}")
        elif not spec.type.accepts(value):
            problems.append(
                f"parameter {name!r} expects {spec.type}, but was given {_shown(value)} "
                f"({type(value).__name__})."
            )
    return problems


def _shown(value: Any) -> str:
    """``repr(value)``, shortened past 80 characters (a 400-digit number, a long list)."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"


def _text_problem(text: str) -> str | None:
    """Text that is not Unicode (bytes a shell passed that are not UTF-8 arrive as lone
    surrogates, PEP 383) cannot be written into the notebook or the record."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        bad = text[e.start : e.end].encode("utf-8", "surrogateescape")
        return (
            f"the text is not valid UTF-8 (byte {bad!r} at character {e.start + 1}); "
            "pass it as UTF-8 text"
        )
    return None


def literal_problem_of(value: Any, _depth: int = 0) -> str | None:
    """Why a value cannot be injected as a Python literal (and stored as JSON), or None."""
    if _depth > 50:
        return "the value is nested too deeply"
    if isinstance(value, str):
        return _text_problem(value)
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        return None
    if isinstance(value, (list, tuple)):
        for v in value:
            p = literal_problem_of(v, _depth + 1)
            if p:
                return p
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"dictionary keys must be strings (got {k!r})"
            p = _text_problem(k) or literal_problem_of(v, _depth + 1)
            if p:
                return p
        return None
    return (
        f"values of type {type(value).__name__} cannot be passed to a notebook; use numbers, "
        "strings, booleans, None, lists and dicts"
    )


# --- injection --------------------------------------------------------------------------------


def to_literal(value: Any) -> str:
    """Python source for a value, built only from literals: no value can inject code."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{to_literal(str(k))}: {to_literal(v)}" for k, v in value.items())
            + "}"
        )
    raise ParameterError(f"cannot inject a value of type {type(value).__name__}")


def injected_source(values: Mapping[str, Any]) -> str:
    lines = ["# Parameters"]
    lines += [f"{name} = {to_literal(value)}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def inject(nb: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``nb`` with a cell tagged ``injected-parameters`` after the parameters cell.

    Mirrors papermill's convention (tag, position, ``metadata.papermill.parameters``).
    """
    out: dict[str, Any] = json.loads(json.dumps(nb))
    out["cells"] = [c for c in out["cells"] if INJECTED_TAG not in tags_of(c)]
    index = find_parameters_cell(out)
    cell: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": None,
        "id": "injected-parameters",
        "metadata": {"tags": [INJECTED_TAG]},
        "outputs": [],
        "source": injected_source(values),
    }
    if out.get("nbformat_minor", 0) < 5:
        del cell["id"]
    out["cells"].insert(0 if index is None else index + 1, cell)
    # encoded: the output notebook must stay strict JSON (mlops_nb.strict_json)
    out.setdefault("metadata", {}).setdefault("papermill", {})["parameters"] = strict_json.encode(
        dict(values)
    )
    return out
