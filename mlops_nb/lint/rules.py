"""The lint rules: pure functions from a notebook dict to (cell index, code, message) triples.

Notebooks reach here after a structure check (cells are dicts with a cell_type and a source), but
everything else may be malformed, so every access is defensive: lint never crashes on a notebook.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from mlops_nb.errors import ParameterError
from mlops_nb.lint.options import LintOptions
from mlops_nb.notebook.io import INJECTED_TAG, PARAMETERS_TAG, tags_of
from mlops_nb.notebook.params import parse_parameters_source
from mlops_nb.notebook.status import RAISES_TAG
from mlops_nb.notebook.syntax import parse_cell

Problem = tuple[int | None, str, str]  # (0-based cell index or None, code, message)
_TOP_LEVEL_DEF = re.compile(r"^(?:async\s+def|def|class)\b", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell, with the fields the rules use read once and safely."""

    index: int
    kind: str
    source: str
    tags: list[str]
    count: int | None
    outputs: list[Mapping[str, Any]]


class View(NamedTuple):
    """A notebook as the rules see it."""

    metadata: Mapping[str, Any]
    cells: list[Cell]
    code: list[Cell]  # code cells a kernel would run: front ends and nbclient skip blank ones


Check = Callable[[View, LintOptions], Iterator[Problem]]


def view(nb: Mapping[str, Any]) -> View:
    cells = [
        Cell(i, str(c.get("cell_type")), _source(c), tags_of(c), _count(c), _outputs(c))
        for i, c in enumerate(nb["cells"])
    ]
    code = [c for c in cells if c.kind == "code" and c.source.strip()]
    return View(_metadata(nb), cells, code)


RESTART = "Fix: Restart & Run All (Kernel > Restart Kernel and Run All Cells), then save."

RULES: dict[str, str] = {
    "NB101": "cells executed out of order (counts not 1..n top to bottom in one session)",
    "NB102": "some code cells executed, others not",
    "NB103": "error output",
    "NB201": "no parameters cell",
    "NB202": "more than one parameters cell",
    "NB203": "parameters cell is not the first code cell",
    "NB204": "parameters cell holds statements that are not literal assignments",
    "NB301": "code cell longer than max-cell-lines",
    "NB302": "function or class defined in the notebook",
    "NB401": "output larger than max-output-bytes",
    "NB501": "no kernelspec in the notebook metadata",
}


# --- safe accessors ---------------------------------------------------------------------------


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    md = obj.get("metadata")
    return md if isinstance(md, dict) else {}


def _source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source")
    if isinstance(src, str):
        return src
    return "".join(s for s in src if isinstance(s, str)) if isinstance(src, list) else ""


def _outputs(cell: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    outs = cell.get("outputs")
    return [o for o in outs if isinstance(o, dict)] if isinstance(outs, list) else []


def _count(cell: Mapping[str, Any]) -> int | None:
    n = cell.get("execution_count")
    return n if isinstance(n, int) and not isinstance(n, bool) else None


def _python(src: str) -> ast.Module | None:
    """The cell as IPython compiles it (``notebook.syntax``), or None for bad code."""
    return parse_cell(src)


# --- execution --------------------------------------------------------------------------------


def check_execution(nb: View, opts: LintOptions) -> Iterator[Problem]:
    """NB101/NB102: all unexecuted, or counts 1..n top to bottom (one session)."""
    cells = [(c.index, c.count) for c in nb.code]
    executed = [(i, n) for i, n in cells if n is not None]
    if not executed:
        return
    for i, n in cells:
        if n is None:
            yield (
                i,
                "NB102",
                (
                    "this cell was not executed, but other cells were: it was skipped, or added after "
                    f"the run. {RESTART}"
                ),
            )
    prev: tuple[int, int] | None = None
    for expected, (i, n) in enumerate(executed, start=1):
        if n != expected:
            yield i, "NB101", _order_message(n, expected, prev)
            return
        prev = (i, n)


def _order_message(n: int, expected: int, prev: tuple[int, int] | None) -> str:
    if prev is None:
        why = (
            f"execution count {n}, but the first executed cell should have 1: the cells ran in a "
            "kernel that had already run other code (not restarted), or cells were deleted."
        )
    elif n <= prev[1]:
        why = (
            f"execution count {n}, not above the {prev[1]} of cell {prev[0] + 1} above it: this "
            "cell ran before a cell above it."
        )
    else:
        why = (
            f"execution count {n} where {expected} was expected (cell {prev[0] + 1} above has "
            f"{prev[1]}): a cell was re-run, or cells ran out of order."
        )
    return f"ran out of order: {why} {RESTART}"


def check_errors(nb: View, opts: LintOptions) -> Iterator[Problem]:
    """NB103: error outputs (not in cells tagged ``raises-exception``: Jupyter's and nbclient's
    convention for a cell whose error is expected, e.g. in a teaching notebook)."""
    for cell in nb.code:
        if RAISES_TAG in cell.tags:
            continue
        i = cell.index
        for out in cell.outputs:
            if out.get("output_type") == "error":
                what = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".rstrip(": ")
                yield (
                    i,
                    "NB103",
                    (
                        f"error output ({_clip(what)}). Fix the error, then Restart & Run All "
                        "(or strip the outputs)."
                    ),
                )
                break


# --- parameters -------------------------------------------------------------------------------


def check_parameters(nb: View, opts: LintOptions) -> Iterator[Problem]:
    """NB201-NB204: exactly one parameters cell, first among code cells, literal assignments."""
    code = [c.index for c in nb.code if INJECTED_TAG not in c.tags]
    if not code:
        return
    tagged = [c.index for c in nb.cells if c.kind == "code" and PARAMETERS_TAG in c.tags]
    if not tagged:
        yield (
            None,
            "NB201",
            (
                "no parameters cell: tag the cell holding the notebook's settings with 'parameters' "
                "(JupyterLab: Property Inspector > Cell Tags) and put it first, so runs can set them."
            ),
        )
        return
    first = tagged[0]
    for extra in tagged[1:]:
        yield (
            extra,
            "NB202",
            (
                f"a second parameters cell (the first is cell {first + 1}); parameters are injected "
                "after the first one only. Merge the two and remove the tag here."
            ),
        )
    if code[0] < first:
        yield (
            first,
            "NB203",
            (
                f"the parameters cell is not the first code cell (cell {code[0] + 1} runs before "
                "it): move it to the top so nothing runs before the parameters are set."
            ),
        )
    for i in tagged:
        problem = _non_literal(nb.cells[i].source)
        if problem:
            yield i, "NB204", problem


def _non_literal(src: str) -> str | None:
    try:
        specs, others = parse_parameters_source(src)
    except ParameterError as e:
        return e.message.split(": ", 1)[-1]
    bad = [
        *others,
        *(f"{s.name} = {s.default_source}" for s in specs if not s.literal_default),
    ]
    if not bad:
        return None
    shown = "; ".join(_clip(b, 40) for b in bad[:3]) + ("; ..." if len(bad) > 3 else "")
    return (
        f"the parameters cell holds statements that are not literal assignments ({shown}). "
        "Runs can only override plain assignments like `alpha = 0.5`: move computed values, "
        "imports and calls to the next cell."
    )


# --- little code ------------------------------------------------------------------------------


def check_long_cells(nb: View, opts: LintOptions) -> Iterator[Problem]:
    """NB301: code cells longer than ``max_cell_lines`` non-blank lines."""
    for cell in nb.code:
        if PARAMETERS_TAG in cell.tags or INJECTED_TAG in cell.tags:
            continue
        if cell.source.count("\n") < opts.max_cell_lines:
            continue  # cannot have more lines than newlines + 1
        n = sum(1 for ln in cell.source.splitlines() if ln.strip())
        if n > opts.max_cell_lines:
            yield (
                cell.index,
                "NB301",
                (
                    f"{n} lines of code (limit {opts.max_cell_lines}, max-cell-lines): keep notebooks "
                    "to little code; move the logic into your package and call it here."
                ),
            )


def check_definitions(nb: View, opts: LintOptions) -> Iterator[Problem]:
    """NB302: ``def`` / ``class`` in a notebook."""
    for cell in nb.code:
        if not _TOP_LEVEL_DEF.search(cell.source):
            continue  # parsing every cell is the costly part of lint: only parse candidates
        i = cell.index
        tree = _python(cell.source)
        if tree is None:
            continue
        names = [
            f"{'class' if isinstance(node, ast.ClassDef) else 'function'} {node.name}"
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        ]
        if names:
            yield (
                i,
                "NB302",
                (
                    f"defines {', '.join(names)}: move reusable code into the package (a module "
                    "imported here), where it can be tested and reused."
                ),
            )


# --- outputs and metadata ---------------------------------------------------------------------


def output_size(item: Any) -> int:
    """Characters of text in an output (what it weighs in the .ipynb file)."""
    if isinstance(item, str):
        return len(item)
    if isinstance(item, dict):
        item = list(item.values())
    if isinstance(item, list):
        return sum(len(x) if isinstance(x, str) else output_size(x) for x in item)
    return 0


def check_output_size(nb: View, opts: LintOptions) -> Iterator[Problem]:
    """NB401: an output larger than ``max_output_bytes``."""
    for cell in nb.cells:
        biggest = max((output_size(o) for o in cell.outputs), default=0)
        if biggest > opts.max_output_bytes:
            yield (
                cell.index,
                "NB401",
                (
                    f"an output of {human_size(biggest)} (limit {human_size(opts.max_output_bytes)}, "
                    "max-output-bytes): large images or data bloat the repository; save them as files "
                    "or make them smaller, or strip the outputs."
                ),
            )


def check_kernelspec(nb: View, opts: LintOptions) -> Iterator[Problem]:
    """NB501: the notebook names no kernel."""
    spec = nb.metadata.get("kernelspec")
    if not (isinstance(spec, dict) and isinstance(spec.get("name"), str) and spec["name"]):
        yield (
            None,
            "NB501",
            (
                "no kernelspec in the notebook metadata, so runs cannot tell which kernel to start: "
                "open it in Jupyter, select a kernel and save."
            ),
        )


def human_size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.1f} kB"
    return f"{n} B"


def _clip(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


CHECKS: tuple[tuple[frozenset[str], Check], ...] = (
    (frozenset({"NB501"}), check_kernelspec),
    (frozenset({"NB201", "NB202", "NB203", "NB204"}), check_parameters),
    (frozenset({"NB101", "NB102"}), check_execution),
    (frozenset({"NB103"}), check_errors),
    (frozenset({"NB301"}), check_long_cells),
    (frozenset({"NB302"}), check_definitions),
    (frozenset({"NB401"}), check_output_size),
)
