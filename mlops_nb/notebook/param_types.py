"""A parameter's type: read from its annotation (``int | None``, ``Optional[str]``,
``Literal["a", "b"]``...) or inferred from its default, and the values it accepts.

Pure functions over ``ast`` nodes; unknown annotations (``Path``, ``np.ndarray``) accept anything.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

_SIMPLE = {"int", "float", "str", "bool", "list", "dict"}
_ALIASES = {
    "List": "list",
    "Dict": "dict",
    "Sequence": "list",
    "Mapping": "dict",
    "tuple": "list",
    "Tuple": "list",
}


@dataclass(frozen=True)
class ParamType:
    """A parameter's type: alternatives (``int``, ``str``...), ``None`` allowed, or literal choices."""

    kinds: tuple[str, ...] = ()  # empty = any
    optional: bool = False
    choices: tuple[Any, ...] | None = None

    def __str__(self) -> str:
        if self.choices is not None:
            text = "Literal[" + ", ".join(repr(c) for c in self.choices) + "]"
        elif self.kinds:
            text = " | ".join(self.kinds)
        else:
            text = "any"
        return f"{text} | None" if self.optional and text != "any" else text

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.optional or (not self.kinds and self.choices is None)
        if self.choices is not None:
            return any(type(value) is type(c) and value == c for c in self.choices) or (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and any(
                    not isinstance(c, bool) and isinstance(c, (int, float)) and c == value
                    for c in self.choices
                )
            )
        if not self.kinds:
            return True
        return any(_fits(kind, value) for kind in self.kinds)


def _fits(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "list":
        return isinstance(value, (list, tuple))
    if kind == "dict":
        return isinstance(value, dict)
    return True


def infer_type(default: Any, literal: bool) -> ParamType:
    """The type of an unannotated parameter from its default (``None`` or an expression: any,
    None allowed)."""
    if not literal or default is None:
        return ParamType(optional=True)
    if isinstance(default, float):
        return ParamType(("float",))
    for kind in ("bool", "int", "str", "list", "dict"):
        if _fits(kind, default):
            return ParamType((kind,))
    return ParamType()


def annotation_type(node: ast.expr) -> ParamType:
    """The type an annotation declares (PEP 604 unions, ``Optional``, ``Union``, ``Literal``,
    ``typing`` aliases, a string annotation); anything else accepts any value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "int | None"
        try:
            return annotation_type(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return ParamType()
    if isinstance(node, ast.Constant) and node.value is None:
        return ParamType(optional=True, kinds=("none",))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([annotation_type(node.left), annotation_type(node.right)])
    name = _dotted_tail(node.value if isinstance(node, ast.Subscript) else node)
    if isinstance(node, ast.Subscript):
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if name == "Optional":
            return _union([annotation_type(args[0]), ParamType(optional=True, kinds=("none",))])
        if name == "Union":
            return _union([annotation_type(a) for a in args])
        if name == "Literal":
            try:
                return ParamType(choices=tuple(ast.literal_eval(a) for a in args))
            except ValueError:
                return ParamType()
    name = _ALIASES.get(name, name)
    if name in _SIMPLE:
        return ParamType((name,))
    return ParamType()  # unknown annotation (Path, np.ndarray...): accept anything


def _union(parts: list[ParamType]) -> ParamType:
    optional = any(p.optional for p in parts)
    real = [p for p in parts if p.kinds != ("none",)]
    if any(not p.kinds and p.choices is None for p in real):
        return ParamType(optional=optional)
    if len(real) == 1 and real[0].choices is not None:
        return ParamType(optional=optional, choices=real[0].choices)
    kinds: list[str] = []
    for p in real:
        if p.choices is not None:
            return ParamType(optional=optional)  # Literal mixed with types: be permissive
        kinds.extend(k for k in p.kinds if k not in kinds)
    return ParamType(tuple(kinds), optional=optional)


def _dotted_tail(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""
