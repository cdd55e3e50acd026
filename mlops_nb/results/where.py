"""The ``--where`` filter: a small expression language over the columns of ``collect``, never a
program.

Grammar (Python's expression syntax, parsed with ``ast`` and checked against a whitelist before
anything is evaluated)::

    expr     := expr ("and" | "or") expr | "not" expr | "(" expr ")" | compare
    compare  := value (("==" | "!=" | "<" | "<=" | ">" | ">=") value)+
              | value ("in" | "not in") "[" literal ("," literal)* "]"
              | value ("is" | "is not") None
    value    := column | literal | value ("+" | "-" | "*" | "/" | "//" | "%" | "**") value
              | "-" value
    column   := name | name "." name | `any text`       (scraps.f1, f1, scraps_f1, `params.C`)
    literal  := number | 'string' | True | False | None

``&``, ``|`` and ``~`` are accepted as ``and``, ``or`` and ``not`` (pandas' query syntax); they
bind tighter than comparisons (Python's precedence), so they take conditions in parentheses.
None is a missing value: ``== None``/``is None``/``in [None]`` match the runs without one (never
set, or set to None); a missing value fails every other comparison but ``!=`` and ``not in`` (as
``None != 1`` in Python), so the logic is two-valued and a filter and its negation split the runs.
Anything else (calls, attribute access other than a column name, subscripts, ``@variables``,
lambdas, comprehensions, shifts...) is refused with a ``UsageError`` naming it: ``pandas.eval``
with the Python engine, used before, reached module globals (``@os.system(...)`` ran the command).

Every operation is bounded in time and memory: arithmetic takes numbers only (a text column or
literal in arithmetic is refused: ``'a' * 10**9`` or ``name * 10**8`` would build gigabytes of
text), a column's arithmetic is numpy's (fixed-width, one pass over the rows), and a whole number
outside the float range (``MAX_BITS``) is refused, checked before a power is computed
(``((10**1000)**1000)**1000`` would otherwise run for hours on Python's big integers).
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlops_nb.errors import UsageError
from mlops_nb.results import operators, where_messages
from mlops_nb.store.naming import option

if TYPE_CHECKING:
    import pandas as pd

MAX_LENGTH = 2000  # characters; a filter is a line, not a program
MAX_POWER = 1000  # largest literal exponent: `10 ** 10 ** 10` would not finish
MAX_BITS = 1024  # whole numbers up to ±2**1024, the range of a float (IEEE 754 binary64)
_INT64 = (-(2**63), 2**63 - 1)
_BACKTICK = re.compile(r"`([^`]*)`")
_QUOTED = where_messages.QUOTED
_COMPARE = operators.COMPARE
_ARITH = operators.FILTER_ARITHMETIC
_LOGIC = {ast.BitAnd: operator.and_, ast.BitOr: operator.or_}
HELP = (
    "A filter compares columns and literals: comparisons (== != < <= > >=; == None for a "
    "missing value), and/or/not, "
    "`in [...]`, arithmetic on numbers (+ - * / // % **), e.g. \"f1 > 0.8 and model in ['rf', 'lr']\"."
)


class _Refused(Exception):
    pass


def _backticks(expr: str) -> tuple[str, dict[str, str]]:
    """`` `any name` `` → a placeholder identifier (outside string literals)."""
    names: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        key = f"__column_{len(names)}__"
        names[key] = m.group(1)
        return key

    parts = _QUOTED.split(expr)
    text = "".join(p if i % 2 else _BACKTICK.sub(sub, p) for i, p in enumerate(parts))
    return text, names


def parse(expr: str) -> tuple[ast.expr, dict[str, str]]:
    """The checked syntax tree of a filter, and its backtick names; ``UsageError`` if refused."""
    if len(expr) > MAX_LENGTH:
        raise UsageError(
            f"{option('where', expr[:20] + '...')}: the filter is longer than {MAX_LENGTH} "
            "characters."
        )
    text, names = _backticks(expr)
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        hint = " (`@name` variables are not supported)" if "@" in text else ""
        raise UsageError(
            f"{option('where', expr)}: not a valid filter expression{hint} ({e.msg}). {HELP}"
        ) from None
    try:
        _check(tree)
    except _Refused as e:
        raise UsageError(
            f"{option('where', expr)}: {e} is not allowed in a filter. {HELP}"
        ) from None
    return tree, names


def _column_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _column_name(node.value)
        return f"{base}.{node.attr}" if base is not None else None
    return None


def _check(node: ast.expr) -> None:
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v)
    elif isinstance(node, ast.UnaryOp) and isinstance(
        node.op, (ast.Not, ast.USub, ast.UAdd, ast.Invert)
    ):
        _check(node.operand)
    elif isinstance(node, ast.BinOp) and type(node.op) in (*_ARITH, *_LOGIC):
        small = (
            isinstance(node.right, ast.Constant)
            and isinstance(node.right.value, (int, float))
            and abs(node.right.value) <= MAX_POWER
        )
        if isinstance(node.op, ast.Pow) and not small and _column_name(node.right) is None:
            raise _Refused("a power whose exponent is not a column or a number up to 1000")
        for side in (node.left, node.right):
            if isinstance(side, ast.Constant) and isinstance(side.value, str):
                raise _Refused("arithmetic on a string")
            _check(side)
    elif isinstance(node, ast.Compare):
        _check_compare(node)
    elif operators.literal(node) or _column_name(node) is not None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            _bounded(node.value)
        return  # a name is only ever looked up among the columns, never evaluated
    elif isinstance(node, (ast.BinOp, ast.UnaryOp)):
        raise _Refused(f"the operator {operators.spelling(node.op)!r}")
    else:
        what = type(node).__name__
        raise _Refused({"Call": "a function call", "Subscript": "indexing"}.get(what, what))


def _check_compare(node: ast.Compare) -> None:
    """Comparisons: ``in`` takes a list of literals; None (a missing value) goes with ``==``,
    ``!=``, ``is`` and ``is not`` only; ``is`` with nothing but None."""
    _check(node.left)
    left = node.left
    for op, right in zip(node.ops, node.comparators, strict=True):
        spelled = operators.spelling(op)
        none = operators.is_none(left) or operators.is_none(right)
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right, (ast.List, ast.Tuple, ast.Set)) or not all(
                operators.literal(e) for e in right.elts
            ):
                raise _Refused("`in` with something other than a list of literals")
        elif isinstance(op, operators.IDENTITY) and not none:
            raise _Refused(
                f"`{spelled}` with something other than None (`is` only tests for a missing "
                "value, `y is None`; compare values with `==`)"
            )
        elif none and not isinstance(op, (ast.Eq, ast.NotEq, *operators.IDENTITY)):
            raise _Refused(
                f"`{spelled}` with None (None is a missing value: `y == None` or `y is None` "
                "matches the runs without one, `y != None` the others)"
            )
        else:
            _check(right)
        left = right


def mask(df: pd.DataFrame, expr: str, resolve: Callable[[str], str]) -> Any:
    """A boolean numpy array: the rows of ``df`` where ``expr`` holds (NA counts as False).

    ``resolve`` maps a name the user wrote to a column of ``df`` (or raises ``UsageError``).
    """
    import pandas as pd

    tree, names = parse(expr)
    try:
        result = _eval(tree, df, lambda n: df[resolve(names.get(n, n))])
    except UsageError:
        raise
    except _Refused as e:
        raise UsageError(
            f"{option('where', expr)}: {e} is not allowed in a filter. {HELP}"
        ) from None
    except _Invalid as e:
        raise UsageError(f"{option('where', expr)}: {e}.") from None
    except _Precedence as e:
        raise UsageError(
            f"{option('where', expr)}: {where_messages.precedence(expr, str(e))}"
        ) from None
    except (TypeError, ValueError, ArithmeticError) as e:
        raise UsageError(f"{option('where', expr)}: {type(e).__name__}: {e}.") from None
    if not isinstance(result, pd.Series) or not (
        pd.api.types.is_bool_dtype(result.dtype) or len(result) == 0
    ):
        raise UsageError(f'{option("where", expr)} is not a condition (e.g. "f1 > 0.8").')
    return result.fillna(False).astype(bool).to_numpy()


class _Invalid(Exception):
    """A well-formed filter that does not apply to these columns (one line: what and how)."""


class _Precedence(Exception):
    """``&``, ``|`` or ``~`` met something that is not a condition: Python's precedence."""


def _bool(value: Any) -> Any:
    """A condition's truth, two-valued: a missing value is False (as ``None`` in Python)."""
    import pandas as pd

    if isinstance(value, pd.Series):
        return value.astype("boolean").fillna(False)
    return bool(value)


def _condition(value: Any, op: ast.AST) -> Any:
    """``value`` as a condition for ``& | ~``, which take conditions only (``0.5 & model`` is
    what ``f1 > 0.5 & model == 'x'`` means in Python: ``&`` binds tighter than ``>``)."""
    import pandas as pd

    if isinstance(value, pd.Series) and pd.api.types.is_bool_dtype(value.dtype):
        return _bool(value)
    if isinstance(value, bool):
        return value
    raise _Precedence(operators.spelling(op))


def _eval(node: ast.expr, df: pd.DataFrame, column: Callable[[str], Any]) -> Any:
    ev: Callable[[ast.expr], Any] = lambda n: _eval(n, df, column)  # noqa: E731
    if isinstance(node, ast.Constant):
        return node.value
    name = _column_name(node)
    if name is not None:
        return column(name)
    if isinstance(node, ast.BoolOp):
        op = operator.and_ if isinstance(node.op, ast.And) else operator.or_
        out = _bool(ev(node.values[0]))
        for v in node.values[1:]:
            out = op(out, _bool(ev(v)))
        return out
    if isinstance(node, ast.UnaryOp):
        value = ev(node.operand)
        if isinstance(node.op, (ast.Not, ast.Invert)):
            b = _bool(value) if isinstance(node.op, ast.Not) else _condition(value, node.op)
            return ~b if not isinstance(b, bool) else not b
        value = _number(value)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp):
        left, right = ev(node.left), ev(node.right)
        if type(node.op) in _LOGIC:
            return _LOGIC[type(node.op)](_condition(left, node.op), _condition(right, node.op))
        return _arithmetic(node.op, _number(left), _number(right))
    if isinstance(node, ast.Compare):
        return _compare(node, ev)
    raise _Refused(type(node).__name__)  # pragma: no cover - _check refused it already


def _bounded(value: int) -> int:
    if value.bit_length() > MAX_BITS:
        raise _Refused(f"a whole number beyond ±2**{MAX_BITS} (the range of a float)")
    return value


def number_column(series: pd.Series) -> bool:
    """Whether ``series`` is a ``number`` column of the collect frame (``object``, holding Python
    ints and floats: ``results.collect.column_kind``); its values compare exactly as numbers."""
    return bool(series.dtype == object) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in series.dropna().tolist()
    )


def _number(value: Any) -> Any:
    """``value`` if arithmetic may take it: a number, or a column of numbers (``bool`` too); a
    column with a whole number past Int64 (``number_column``) as floats, fixed-width like
    the others (its comparisons stay exact)."""
    import pandas as pd

    if isinstance(value, pd.Series):
        if pd.api.types.is_numeric_dtype(value.dtype):
            return value
        if number_column(value):
            return value.astype("Float64")
        kind = "date" if pd.api.types.is_datetime64_any_dtype(value.dtype) else "text"
        raise _Refused(f"arithmetic on the {kind} column {value.name!r} (numbers only)")
    if isinstance(value, int | float):
        return value
    what = "text" if isinstance(value, str) else repr(value)
    raise _Refused(f"arithmetic on {what} (numbers only)")


def _arithmetic(op: ast.operator, left: Any, right: Any) -> Any:
    """``left op right`` for numbers or numeric columns, bounded: whole numbers stay within
    ``MAX_BITS`` (a power is checked before it is computed); a whole number too wide for a
    column's int64 arithmetic meets the column as a float."""
    import pandas as pd

    if isinstance(left, pd.Series) or isinstance(right, pd.Series):
        left, right = (_wide_as_float(v) for v in (left, right))
        return _ARITH[type(op)](left, right)
    whole = isinstance(left, int) and isinstance(right, int)
    # |left| >= 2 has at least (bits - 1) * right + 1 bits to the power right: refuse before
    # computing what is surely too wide; what is computed has at most ~2 * MAX_BITS bits
    power = whole and isinstance(op, ast.Pow) and abs(left) > 1 and right > 0
    if power and (left.bit_length() - 1) * right > MAX_BITS:
        raise _Refused(f"a power beyond ±2**{MAX_BITS} (the range of a float)")
    result = _ARITH[type(op)](left, right)
    if isinstance(result, int):
        _bounded(result)
    return result


def _wide_as_float(value: Any) -> Any:
    wide = isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]
    if wide:
        return float(value)  # within MAX_BITS: an OverflowError at worst (a usage error)
    return value


def _compare(node: ast.Compare, ev: Callable[[ast.expr], Any]) -> Any:
    """A chained comparison, two-valued: a missing value fails every comparison but ``!=`` and
    ``not in`` (as in Python, ``None != 1``), so a filter and its negation split the runs."""
    import pandas as pd

    out: Any = True
    left_node, left = node.left, ev(node.left)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, (ast.In, ast.NotIn)):
            assert isinstance(right_node, (ast.List, ast.Tuple, ast.Set))
            values = [e.value for e in right_node.elts if isinstance(e, ast.Constant)]
            hit = left.isin(values) if isinstance(left, pd.Series) else left in values
            if isinstance(left, pd.Series) and None in values:  # None: missing, any dtype
                hit = hit | left.isna()
            part = ~hit if isinstance(op, ast.NotIn) and isinstance(hit, pd.Series) else hit
            if isinstance(op, ast.NotIn) and not isinstance(hit, pd.Series):
                part = not hit
            right = None
        else:
            right = ev(right_node)
            part = _pair(op, (left_node, left), (right_node, right))
        out = part if out is True else _bool(out) & _bool(part)
        left_node, left = right_node, right
    return out


def _pair(op: ast.cmpop, left: tuple[ast.expr, Any], right: tuple[ast.expr, Any]) -> Any:
    """``left op right`` for one link of a chain; ``None`` means missing (``== None`` is isna)."""
    import pandas as pd

    negated = isinstance(op, (ast.NotEq, ast.IsNot))
    if operators.is_none(left[0]) or operators.is_none(right[0]):
        other = right[1] if operators.is_none(left[0]) else left[1]
        missing = other.isna() if isinstance(other, pd.Series) else other is None
        return ~missing if negated else missing
    try:
        part = _COMPARE[type(op)](left[1], right[1])
    except TypeError:
        raise _Invalid(where_messages.mismatch(op, left[1], right[1])) from None
    if isinstance(part, pd.Series):
        return part.astype("boolean").fillna(negated)
    return part
