"""Which scraps a notebook can glue, read from its code (``ast``, nothing runs): so that a
pipeline's ``show:`` naming a scrap the notebook never glues is reported when the pipeline file
is validated, not discovered as a silently missing number after the run.

Decidable cases only: ``glue("name", ...)`` with a literal name, and ``glue(name, ...)`` inside
``for name, value in results.items()`` where ``results`` is a dict literal with literal keys
(the templates' habit). Anything else (``**other`` in the dict, a dict changed after it is
built — ``d |= ...``, ``d[k] = ...``, ``d.update(...)``, a second assignment —, computed names,
cells that do not parse) makes the answer "unknown" and nothing is reported.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mlops_nb.notebook.io import code_cells, source_of

if TYPE_CHECKING:
    from mlops_nb.pipeline.spec import Step


def _is_glue(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Name) and f.id == "glue") or (
        isinstance(f, ast.Attribute) and f.attr == "glue"
    )


def _name_arg(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "name"), None)


def _dict_keys(node: ast.expr) -> set[str] | None:
    if not isinstance(node, ast.Dict):
        return None
    keys = set()
    for k in node.keys:
        if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
            return None  # **unpacking or a computed key
        keys.add(k.value)
    return keys


_MUTATORS = frozenset({"update", "setdefault", "__setitem__", "__ior__"})


def _changed_names(node: ast.AST) -> list[str]:
    """Names whose dict ``node`` changes in place: ``d |= x``, ``d[k] = v``, ``d.update(x)``."""
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [
            t.value.id
            for t in targets
            if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name)
        ]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _MUTATORS
        and isinstance(node.func.value, ast.Name)
    ):
        return [node.func.value.id]
    return []


def glued_names(nb: Mapping[str, Any]) -> set[str] | None:
    """Every name the notebook's ``glue`` calls can use, or None when that cannot be known."""
    trees = []
    for _, cell in code_cells(nb):
        try:
            trees.append(ast.parse(source_of(cell)))
        except SyntaxError:
            return None  # magics and the like: do not guess
    dicts: dict[str, set[str] | None] = {}
    loops: dict[str, str] = {}  # loop variable -> the dict it walks (``for k, v in d.items()``)
    for tree in trees:
        for node in ast.walk(tree):
            for name in _changed_names(node):
                dicts[name] = None  # changed after it was built: its keys cannot be known
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    known = target.id not in dicts  # a second assignment: unknown
                    dicts[target.id] = _dict_keys(node.value) if known else None
            elif isinstance(node, ast.For) and isinstance(node.iter, ast.Call):
                it, tgt = node.iter, node.target
                if (
                    isinstance(it.func, ast.Attribute)
                    and it.func.attr in ("items", "keys")
                    and isinstance(it.func.value, ast.Name)
                ):
                    first = tgt.elts[0] if isinstance(tgt, ast.Tuple) and tgt.elts else tgt
                    if isinstance(first, ast.Name):
                        loops[first.id] = it.func.value.id
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if not _is_glue(node):
                continue
            assert isinstance(node, ast.Call)
            arg = _name_arg(node)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.add(arg.value)
            elif isinstance(arg, ast.Name) and arg.id in loops:
                keys = dicts.get(loops[arg.id])
                if keys is None:
                    return None
                names |= keys
            else:
                return None
    return names


def unglued(show: tuple[str, ...], nb: Mapping[str, Any]) -> tuple[list[str], set[str]]:
    """The ``show:`` names the notebook never glues (empty when unknown), and what it glues."""
    names = glued_names(nb)
    if names is None:
        return [], set()
    return [s for s in show if s not in names], names


def unglued_problems(
    step: Step, nb: Mapping[str, Any], did_you_mean: Callable[[str, set[str]], str]
) -> list[str]:
    """The step's ``show:`` names and ``select`` metric that its notebook never glues (a grid
    step whose metric is never glued would fail after its whole sweep), one line each;
    ``did_you_mean(name, glued)`` gives the hint that ends a name."""
    metric = (step.select or {}).get("metric")
    wanted = [("show:", name) for name in step.show]
    wanted += [("select: metric", metric)] if metric else []
    missing, glued = unglued(tuple(name for _, name in wanted), nb)
    return [
        f"step {step.name!r}: {what} {name!r} is never glued by {step.notebook}"
        f"{did_you_mean(name, glued)}; it glues {', '.join(sorted(glued)) or 'nothing'}"
        for what, name in wanted
        if name in missing
    ]
