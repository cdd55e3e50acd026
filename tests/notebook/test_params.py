from __future__ import annotations

import ast
import math
from typing import Any

import pytest

from mlops_nb.errors import ParameterError
from mlops_nb.notebook.params import (
    inject,
    injected_source,
    literal_problem_of,
    parse_notebook_params,
    parse_parameters_source,
    to_literal,
    validate,
)
from tests import nbbuild as b


def specs(src: str) -> dict[str, Any]:
    found, _ = parse_parameters_source(src)
    return {s.name: s for s in found}


@pytest.mark.parametrize(
    ("src", "type_text", "default"),
    [
        ("x: int = 3", "int", 3),
        ("x: float = 0.5", "float", 0.5),
        ("x: str = 'a'", "str", "a"),
        ("x: bool = True", "bool", True),
        ("x: list = [1, 2]", "list", [1, 2]),
        ("x: list[int] = [1, 2]", "list[int]", [1, 2]),
        ("x: dict = {'a': 1}", "dict", {"a": 1}),
        ("x: int | None = None", "int | None", None),
        ("x: Optional[float] = None", "float | None", None),
        ("x: typing.Optional[str] = 'a'", "str | None", "a"),
        ("x: Union[int, str] = 1", "int | str", 1),
        ("x: Literal['lr', 'rf'] = 'lr'", "Literal['lr', 'rf']", "lr"),
        ("x: 'int | None' = 4", "int | None", 4),
        ("x = 3", "int", 3),
        ("x = 3.0", "float", 3.0),
        ("x = 'a'", "str", "a"),
        ("x = False", "bool", False),
        ("x = (1, 2)", "tuple", [1, 2]),
        ("x = None", "any", None),
        ("x: Path = 'data.csv'", "any", "data.csv"),
    ],
    ids=lambda v: str(v),
)
def test_parameter_types(src: str, type_text: str, default: Any) -> None:
    s = specs(src)["x"]
    assert str(s.type) == type_text
    assert s.default == default


def test_help_comment_and_non_literal_default() -> None:
    found = specs(
        "alpha: float = 0.5  # learning rate\n"
        "today = date.today()  # computed\n"
        "%matplotlib inline\n"
        "import os\n"
    )
    assert found["alpha"].help == "learning rate"
    assert not found["today"].literal_default
    assert found["today"].default_source == "date.today()"
    _, others = parse_parameters_source("a = 1\nimport os\nprint(a)\n")
    assert others == ("import os", "print(a)")


def test_syntax_error_in_parameters_cell_is_clear() -> None:
    with pytest.raises(ParameterError, match=r"not valid Python \(line 1"):
        parse_parameters_source("x = = 1")


def nb_params(src: str) -> Any:
    return parse_notebook_params(b.notebook(b.params(src), b.code("pass")))


@pytest.mark.parametrize(
    ("src", "values", "expected"),
    [
        ("x: float = 0.5", {"x": 2}, {"x": 2.0}),  # int for float is fine, becomes float
        ("x: int | None = 1", {"x": None}, {"x": None}),
        ("x: Literal['a', 'b'] = 'a'", {"x": "b"}, {"x": "b"}),
        ("x: list = []", {"x": (1, 2)}, {"x": [1, 2]}),
        ("x = 1\ny = 'k'", {}, {"x": 1, "y": "k"}),
        ("x = None", {"x": {"any": [1]}}, {"x": {"any": [1]}}),
    ],
)
def test_valid_values(src: str, values: dict[str, Any], expected: dict[str, Any]) -> None:
    merged = validate(nb_params(src), values)
    assert merged == expected
    assert {k: type(v) for k, v in merged.items()} == {k: type(v) for k, v in expected.items()}


@pytest.mark.parametrize(
    ("src", "values", "message"),
    [
        (
            "alpha = 0.5",
            {"alpah": 1},
            r"unknown parameter 'alpah'\. Did you mean 'alpha'\? Valid parameters: alpha",
        ),
        ("n: int = 1", {"n": "abc"}, r"parameter 'n' expects int, but was given 'abc' \(str\)"),
        ("n: int = 1", {"n": 1.5}, r"expects int, but was given 1\.5"),
        ("n: int = 1", {"n": True}, r"expects int, but was given True"),
        ("f: float = 1.0", {"f": None}, r"expects float, but was given None"),
        ("b: bool = True", {"b": 1}, r"expects bool"),
        ("s: str = 'a'", {"s": 3}, r"expects str"),
        ("m: Literal['a', 'b'] = 'a'", {"m": "c"}, r"expects Literal\['a', 'b'\]"),
        ("d: dict = {}", {"d": [1]}, r"expects dict"),
        ("x = 1", {"x": object()}, r"values of type object cannot be passed"),
    ],
)
def test_invalid_values(src: str, values: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        validate(nb_params(src), values)


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(ParameterError) as e:
        validate(nb_params("a: int = 1\nb: str = 'x'"), {"a": "x", "c": 1})
    assert "parameter 'a'" in str(e.value)
    assert "unknown parameter 'c'" in str(e.value)


def test_notebook_without_parameters_cell() -> None:
    params = parse_notebook_params(b.notebook(b.code("x = 1")))
    assert params.cell_index is None
    assert validate(params, {}) == {}
    with pytest.raises(ParameterError, match="no parameters cell"):
        validate(params, {"x": 2})


HOSTILE = [
    'a"; import os; os.system("echo pwned")  #',
    "a'\n__import__('os').system('echo pwned')\n'",
    "\\'; raise SystemExit('x')",
    '"""',
    "line1\nline2\r\n\ttab \x00 nul",
    "__import__('os')",
    "{{ jinja }} ${shell} `backtick`",
    "ünïcødé ✓ \u202e",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_injection_is_literal_only(value: str) -> None:
    src = injected_source({"s": value, "nested": [value, {"k": value}]})
    tree = ast.parse(src)
    for stmt in tree.body:
        assert isinstance(stmt, ast.Assign)
        ast.literal_eval(stmt.value)  # raises if anything but a literal was produced
    namespace: dict[str, Any] = {}
    exec(compile(tree, "<injected>", "exec"), namespace)  # literals only: safe
    assert namespace["s"] == value
    assert namespace["nested"] == [value, {"k": value}]


def test_non_finite_floats_are_injected() -> None:
    ns: dict[str, Any] = {}
    exec(injected_source({"a": math.inf, "b": [math.nan]}), ns)
    assert ns["a"] == math.inf
    assert math.isnan(ns["b"][0])
    assert to_literal(-math.inf) == "float('-inf')"


def test_inject_places_cell_after_parameters_and_replaces_old_injection() -> None:
    nb = b.notebook(b.markdown("# t"), b.params("x = 1"), b.code("print(x)"))
    once = inject(nb, {"x": 2})
    twice = inject(once, {"x": 3})
    tags = [c.get("metadata", {}).get("tags") for c in twice["cells"]]
    assert tags == [None, ["parameters"], ["injected-parameters"], None]
    assert twice["cells"][2]["source"] == "# Parameters\nx = 3\n"
    assert twice["metadata"]["papermill"]["parameters"] == {"x": 3}
    assert nb["cells"][1]["source"] == "x = 1"  # the input is not modified


def test_typing_imports_are_allowed_in_the_parameters_cell() -> None:
    found, others = parse_parameters_source(
        "from typing import Literal\nimport typing\nmodel: Literal['lr', 'rf'] = 'lr'\nimport os\n"
    )
    assert [s.name for s in found] == ["model"]
    assert str(found[0].type) == "Literal['lr', 'rf']"
    assert others == ("import os",)


@pytest.mark.parametrize(
    "value",
    ["\udcff", ["ok", "a\udcfeb"], {"k\udcff": 1}, {"k": {"deep": "\udc80"}}],
    ids=["text", "in-list", "dict-key", "nested"],
)
def test_text_that_is_not_utf8_is_refused(value: object) -> None:
    # bytes a shell passes that are not UTF-8 arrive as lone surrogates (PEP 383)
    problem = literal_problem_of(value)
    assert problem is not None and "not valid UTF-8" in problem
