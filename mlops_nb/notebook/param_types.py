"""A parameter's type: read from its annotation (``int | None``, ``Optional[str]``,
``Literal["a", "b"]``, ``list[int]``, ``dict[str, float]``, ``tuple[int, int]``...) or inferred
from its default, and the values it accepts.

Containers are checked element by element, as the annotation says (``list[int]`` refuses
``["a"]``; ``tuple[int, int]`` wants two ints; ``tuple[int, ...]`` any number of them). Values
arrive as JSON/YAML lists, so a ``tuple`` parameter accepts a list (and is given one). Dict keys
are text in JSON: only the values of a ``dict[K, V]`` are checked.

Pure functions over ``ast`` nodes; unknown annotations (``Path``, ``np.ndarray``) accept anything.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from typing import Any

_FLOAT_MAX = int(sys.float_info.max)
_SIMPLE = {"int", "float", "str", "bool", "list", "dict", "tuple"}
_ALIASES = {
    "List": "list",
    "Dict": "dict",
    "Sequence": "list",
    "Mapping": "dict",
    "Tuple": "tuple",
}


@dataclass(frozen=True)
class Items:
    """The element types of a container kind: ``list[T]`` ``(T,)``, ``dict[K, V]`` ``(K, V)``,
    ``tuple[A, B]`` ``(A, B)``; ``variadic``: ``tuple[T, ...]``."""

    kind: str
    types: tuple[ParamType, ...]
    variadic: bool = False

    def __str__(self) -> str:
        parts = [str(t) for t in self.types] + (["..."] if self.variadic else [])
        return f"{self.kind}[{', '.join(parts)}]"

    def accept(self, value: Any) -> bool:
        if self.kind == "dict":
            return all(self.types[-1].accepts(v) for v in value.values())
        if self.kind == "tuple" and not self.variadic:
            return len(value) == len(self.types) and all(
                t.accepts(v) for t, v in zip(self.types, value, strict=True)
            )
        return all(self.types[0].accepts(v) for v in value)

    def coerce(self, value: Any) -> Any:
        if self.kind == "dict":
            return {k: self.types[-1].coerce(v) for k, v in value.items()}
        types = self.types if self.kind == "tuple" and not self.variadic else None
        return [(types[i] if types else self.types[0]).coerce(v) for i, v in enumerate(value)]


@dataclass(frozen=True)
class ParamType:
    """A parameter's type: alternatives (``int``, ``str``...), ``None`` allowed, or literal choices."""

    kinds: tuple[str, ...] = ()  # empty = any
    optional: bool = False
    choices: tuple[Any, ...] | None = None
    items: tuple[Items, ...] = ()  # the element types of the container kinds that have them

    def _items(self, kind: str) -> Items | None:
        return next((i for i in self.items if i.kind == kind), None)

    def __str__(self) -> str:
        if self.choices is not None:
            text = "Literal[" + ", ".join(repr(c) for c in self.choices) + "]"
        elif self.kinds:
            text = " | ".join(str(self._items(k) or k) for k in self.kinds)
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
        return any(_fits(kind, value) and self._fill(kind, value) for kind in self.kinds)

    def _fill(self, kind: str, value: Any) -> bool:
        items = self._items(kind)
        return items is None or items.accept(value)

    def coerce(self, value: Any) -> Any:
        """An accepted ``value`` in this type: a tuple as a list (JSON's), an int given for a
        float as a float, element by element in containers whose element types are known."""
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value) if "float" in self.kinds and "int" not in self.kinds else value
        for kind in self.kinds:
            items = self._items(kind)
            if items is not None and _fits(kind, value) and items.accept(value):
                return items.coerce(value)
        return value


def _fits(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":  # an int too large for a float is not one
        return isinstance(value, float) or (
            isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _FLOAT_MAX
        )
    if kind == "str":
        return isinstance(value, str)
    if kind in ("list", "tuple"):
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
    if isinstance(default, tuple):
        return ParamType(("tuple",))
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
    if name not in _SIMPLE:
        return ParamType()  # unknown annotation (Path, np.ndarray...): accept anything
    if isinstance(node, ast.Subscript) and name in ("list", "dict", "tuple"):
        return ParamType((name,), items=_container(name, args))
    return ParamType((name,))


def _container(kind: str, args: list[ast.expr]) -> tuple[Items, ...]:
    """The element types of ``kind[args]``; none when they do not fit the kind."""
    if not args:
        return ()
    variadic = kind == "tuple" and isinstance(args[-1], ast.Constant) and args[-1].value is ...
    types = tuple(annotation_type(a) for a in (args[:-1] if variadic else args))
    wanted = {"list": 1, "dict": 2}.get(kind)
    if (wanted and len(types) != wanted) or (variadic and len(types) != 1) or not types:
        return ()
    if all(not t.kinds and t.choices is None and not t.optional for t in types):
        return ()  # list[Any], dict[str, Path]...: nothing to check
    return (Items(kind, types, variadic),)


def _union(parts: list[ParamType]) -> ParamType:
    optional = any(p.optional for p in parts)
    real = [p for p in parts if p.kinds != ("none",)]
    if any(not p.kinds and p.choices is None for p in real):
        return ParamType(optional=optional)
    if len(real) == 1 and real[0].choices is not None:
        return ParamType(optional=optional, choices=real[0].choices)
    kinds: list[str] = []
    items: list[Items] = []
    for p in real:
        if p.choices is not None:
            return ParamType(optional=optional)  # Literal mixed with types: be permissive
        kinds.extend(k for k in p.kinds if k not in kinds)
        items.extend(i for i in p.items if i.kind not in [j.kind for j in items])
    return ParamType(tuple(kinds), optional=optional, items=tuple(items))


def _dotted_tail(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""
