"""The operator tables of the two safe expression evaluators: ``results.where`` (``--where``, over
the columns of ``collect``; a mask) and ``pipeline.rules`` (gate rules over upstream scraps; a
boolean). Both parse with ``ast`` and accept only what these tables and ``literal`` name; each
keeps its own grammar and bounds on top (a filter also has ``//``, ``%`` and a bounded ``**``; a
rule has ``in``/``not in`` over tuples and values). Python's operators, from ``operator``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

Binary = Callable[[Any, Any], Any]

COMPARE: dict[type[ast.cmpop], Binary] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
MEMBERSHIP: dict[type[ast.cmpop], Binary] = {
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
# Arithmetic takes numbers only, in both evaluators (text arithmetic could build gigabytes).
ARITHMETIC: dict[type[ast.operator], Binary] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
FILTER_ARITHMETIC: dict[type[ast.operator], Binary] = {
    **ARITHMETIC,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,  # bounded by results.where before it is computed
}
LITERAL_TYPES = (bool, int, float, str, type(None))
IDENTITY = (ast.Is, ast.IsNot)  # allowed only with None: `y is None` (a missing value)
# How a user writes each operator (messages name the operator as written, not its ast class).
SPELLING: dict[type[ast.AST], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&",
    ast.BitOr: "|", ast.BitXor: "^", ast.And: "and", ast.Or: "or", ast.Not: "not",
    ast.Invert: "~", ast.USub: "-", ast.UAdd: "+",
}  # fmt: skip


def spelling(op: ast.AST) -> str:
    """The operator ``op`` as written in an expression (``ast.Pow()`` → ``**``)."""
    return SPELLING.get(type(op), type(op).__name__)


def is_none(node: ast.AST) -> bool:
    """Whether ``node`` is the literal ``None``."""
    return isinstance(node, ast.Constant) and node.value is None


def literal(node: ast.AST) -> bool:
    """Whether ``node`` is a literal both evaluators accept: a number, a string, True, False or
    None (not bytes, not Ellipsis, not complex)."""
    return isinstance(node, ast.Constant) and isinstance(node.value, LITERAL_TYPES)
