"""Gate rules: boolean expressions over upstream steps' scraps, evaluated without ``eval``.

    shadow.delta_f1 > 0.01 and not monitor.drift_detected
    not shadow.has_champion or shadow.delta_f1_low > 0
    evaluate.f1 >= 0.8 and evaluate.recall - evaluate.baseline_f1 > 0.3

A rule is parsed with ``ast.parse(mode="eval")`` and walked by a whitelist: ``and``/``or``
(short-circuit, so a scrap that only exists in one branch can be guarded), ``not``, comparisons
(``== != < <= > >= in not in``, and ``is``/``is not`` with None), ``+ - * /`` and unary minus on numbers, literals (numbers,
strings, ``True``/``False``/``None``, tuples/lists of literals) and ``STEP.SCRAP`` names. Anything
else (calls, subscripts, lambdas, comprehensions, ``**``, bare names, attributes of attributes)
is refused when the pipeline is loaded: a rule is never a program.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from typing import Any

from mlops_nb.errors import ConfigError
from mlops_nb.results import operators

MAX_LENGTH = 1000

_COMPARE = {
    **operators.COMPARE,
    **operators.MEMBERSHIP,
    ast.Is: operator.is_,  # with None only (checked): `shadow.champion is None`
    ast.IsNot: operator.is_not,
}
_ARITH = operators.ARITHMETIC


class RuleError(ConfigError):
    """A rule that cannot be parsed, refers to unknown scraps, or does not give a boolean."""


def compile_rule(rule: str) -> ast.Expression:
    """The checked syntax tree of ``rule``; ``RuleError`` says what is not allowed and where."""
    if not isinstance(rule, str) or not rule.strip():
        raise RuleError("a gate rule is a non-empty expression, e.g. 'shadow.delta_f1 > 0.01'")
    if len(rule) > MAX_LENGTH:
        raise RuleError(f"a gate rule is at most {MAX_LENGTH} characters, got {len(rule)}")
    try:
        tree = ast.parse(rule.strip(), mode="eval")
    except SyntaxError as e:
        raise RuleError(f"rule {rule!r}: invalid syntax at column {e.offset}") from None
    _check(tree.body, rule)
    return tree


_ALLOWED = (ast.BoolOp, ast.UnaryOp, ast.Compare, ast.BinOp, ast.Tuple, ast.List)
_OPERATORS: tuple[type[ast.AST], ...] = (
    ast.And,
    ast.Or,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.expr_context,
    *_COMPARE,
    *_ARITH,
)


def _check(node: ast.AST, rule: str) -> None:
    """Whitelist walk: STEP.SCRAP is the only name form; operators from the tables above."""
    if isinstance(node, ast.Attribute):
        if not isinstance(node.value, ast.Name):
            raise RuleError(f"rule {rule!r}: write scraps as STEP.SCRAP (e.g. shadow.delta_f1)")
        return
    if isinstance(node, ast.Name):
        raise RuleError(
            f"rule {rule!r}: {node.id!r} alone is not a value; write STEP.SCRAP "
            f"(e.g. {node.id}.f1) or a literal (True, False, None, numbers, 'text')"
        )
    if isinstance(node, ast.Constant):
        if not operators.literal(node):
            raise RuleError(f"rule {rule!r}: literal {node.value!r} is not allowed")
        return
    if not isinstance(node, _ALLOWED):
        raise RuleError(
            f"rule {rule!r}: {type(node).__name__} is not allowed (only comparisons, "
            "and/or/not, + - * /, literals and STEP.SCRAP names)"
        )
    if isinstance(node, ast.Compare):
        _check_identity(node, rule)
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _OPERATORS):
            continue
        if isinstance(child, (ast.operator, ast.cmpop, ast.boolop, ast.unaryop)):
            spelled = operators.spelling(child)
            raise RuleError(f"rule {rule!r}: operator {spelled!r} is not allowed")
        _check(child, rule)


def _check_identity(node: ast.Compare, rule: str) -> None:
    """``is`` / ``is not`` only with None (a scrap set to None); values compare with ``==``."""
    left = node.left
    for op, right in zip(node.ops, node.comparators, strict=True):
        none = operators.is_none(left) or operators.is_none(right)
        if isinstance(op, operators.IDENTITY) and not none:
            raise RuleError(
                f"rule {rule!r}: `{operators.spelling(op)}` only tests for None "
                "(e.g. shadow.champion is None); compare values with `==`"
            )
        left = right


def references(tree: ast.Expression) -> set[tuple[str, str]]:
    """The ``(step, scrap)`` pairs a compiled rule reads."""
    return {
        (n.value.id, n.attr)
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
    }


def evaluate(rule: str, scraps: Mapping[str, Mapping[str, Any]]) -> bool:
    """The rule's truth value given ``{step: {scrap: value}}``; ``RuleError`` when a scrap is
    missing, an operation does not apply to the values (e.g. ``None > 1``) or the result is not
    a boolean."""
    tree = compile_rule(rule)
    value = _eval(tree.body, scraps, rule)
    if not isinstance(value, bool):
        raise RuleError(f"rule {rule!r} gives {value!r}, not True/False; compare it to something")
    return value


def _number(value: Any, rule: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RuleError(f"rule {rule!r}: arithmetic needs numbers, got {value!r}")
    return value


def _eval(node: ast.AST, scraps: Mapping[str, Mapping[str, Any]], rule: str) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_eval(e, scraps, rule) for e in node.elts)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        step, name = node.value.id, node.attr
        if step not in scraps:
            raise RuleError(f"rule {rule!r}: {step!r} is not an upstream step of this gate")
        if name not in scraps[step]:
            glued = ", ".join(sorted(scraps[step])) or "nothing"
            raise RuleError(f"rule {rule!r}: step {step!r} glued no {name!r} (it glued: {glued})")
        return scraps[step][name]
    if isinstance(node, ast.BoolOp):
        is_and = isinstance(node.op, ast.And)
        for operand in node.values:  # short-circuit, like Python
            truth = _truth(_eval(operand, scraps, rule), rule)
            if truth != is_and:
                return truth
        return is_and
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, scraps, rule)
        if isinstance(node.op, ast.Not):
            return not _truth(operand, rule)
        sign = -1 if isinstance(node.op, ast.USub) else 1
        return sign * _number(operand, rule)
    if isinstance(node, ast.BinOp):
        left = _number(_eval(node.left, scraps, rule), rule)
        right = _number(_eval(node.right, scraps, rule), rule)
        try:
            return _ARITH[type(node.op)](left, right)
        except ZeroDivisionError:
            raise RuleError(f"rule {rule!r}: division by zero") from None
    if isinstance(node, ast.Compare):
        left = _eval(node.left, scraps, rule)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, scraps, rule)
            try:
                ok = _COMPARE[type(op)](left, right)
            except TypeError:
                raise RuleError(f"rule {rule!r}: cannot compare {left!r} with {right!r}") from None
            if not ok:
                return False
            left = right
        return True
    raise RuleError(f"rule {rule!r}: {type(node).__name__} is not allowed")  # pragma: no cover


def _truth(value: Any, rule: str) -> bool:
    if not isinstance(value, bool):
        raise RuleError(f"rule {rule!r}: {value!r} is not True/False (and/or/not need booleans)")
    return value
