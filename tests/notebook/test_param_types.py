"""A parameter's type, from its annotation or its default: what ``inspect`` shows and which
values ``-p NAME VALUE`` may pass (anything mlops-nb cannot read is permissive, never a crash)."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_nb.notebook.params import parse_parameters_source


def _type(src: str) -> Any:
    (spec,), _ = parse_parameters_source(src)
    return spec.type


@pytest.mark.parametrize(
    ("src", "shown", "accepted", "refused"),
    [
        ('x: "int | None" = 1', "int | None", [1, None], ["1", 1.5]),
        ('x: Optional[Literal["a", "b"]] = "a"', "Literal['a', 'b'] | None", ["b", None], ["c"]),
        ("x: Literal[1, 2.5, True] = 1", "Literal[1, 2.5, True]", [1, 1.0, 2.5, True], [2, False]),
        ("x: typing.List[int] = []", "list[int]", [[1], (1,)], [{}, "1", ["1"]]),
        ("x: Tuple[int, int] = (1, 2)", "tuple[int, int]", [[1, 2]], [1, [1], [1, "2"]]),
        ("x: Mapping[str, int] = {}", "dict[str, int]", [{"a": 1}], [[], {"a": "1"}]),
        ("x: float = 1", "float", [1, 1.5], [True, "1"]),
        ("x = 0.5", "float", [1, 0.1], ["0.5"]),
        ("x = True", "bool", [False], [0]),
        ("x = None", "any", [None, 1, "a"], []),
    ],
    ids=[
        "string-annotation",
        "optional-literal",
        "literal-numbers",
        "typing-list",
        "tuple-is-list",
        "mapping-is-dict",
        "float-takes-int",
        "inferred-float",
        "inferred-bool",
        "none-default",
    ],
)
def test_declared_types(src: str, shown: str, accepted: list[Any], refused: list[Any]) -> None:
    t = _type(src)
    assert str(t) == shown
    for value in accepted:
        assert t.accepts(value), value
    for value in refused:
        assert not t.accepts(value), value


@pytest.mark.parametrize(
    "src",
    [
        'x: "int |" = 1',  # a string annotation that is not an expression
        "x: Literal[Path] = 1",  # Literal of a name: not literal choices
        "x: Union[int, Path] = 1",  # one alternative mlops-nb cannot check
        'x: Union[Literal["a"], int] = 1',  # choices mixed with types
        "x: 3 = 1",  # not a type at all
        "x: np.ndarray = 1",
        "x = {1, 2}",  # a literal default of a kind that has no parameter type
        "x = 1j",
        "x = Path.cwd()",  # an expression: any value, None too
    ],
    ids=[
        "bad-string",
        "literal-of-name",
        "union-unknown",
        "literal-and-type",
        "constant",
        "dotted-unknown",
        "set-default",
        "complex-default",
        "expression-default",
    ],
)
def test_what_cannot_be_checked_accepts_anything(src: str) -> None:
    t = _type(src)
    assert str(t) == "any"
    for value in (1, "text", [1], {"a": 1}, 2.5, None):
        assert t.accepts(value)
