"""Values are what the user wrote, or refused: a number a float cannot hold is not silently
``inf`` or ``0.0``; ints stay exact; typed containers are checked element by element."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.errors import ParameterError
from mlops_nb.main import main
from mlops_nb.notebook.params import parse_parameters_source, validate
from mlops_nb.notebook.values import typed_parse
from tests import nbbuild as b

PARAMS = (
    "alpha: float = 0.5\n"
    "name: str = 'a'\n"
    "n: int = 1\n"
    "x: list[int] = [1]\n"
    "c: tuple = (1, 2)\n"
    "pair: tuple[int, int] = (1, 2)\n"
    "many: tuple[float, ...] = ()\n"
    "weights: dict[str, float] = {}\n"
    "nested: list[list[int]] | None = None\n"
)


@pytest.fixture
def nb(tmp_path: Path) -> Path:
    return b.write(tmp_path / "nb.ipynb", b.params(PARAMS), b.code("y = 1"))


def _declared() -> Any:
    from mlops_nb.notebook.params import NotebookParams

    specs, _ = parse_parameters_source(PARAMS)
    return NotebookParams(cell_index=0, specs=specs)


@pytest.mark.parametrize(
    ("text", "became"),
    [("1e400", "inf"), ("-1e400", "inf"), ("1e-400", "0.0"), ("1_0e999", "inf")],
)
def test_a_number_out_of_float_range_is_refused(
    nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str], text: str, became: str
) -> None:
    for name in ("alpha", "n", "undeclared"):  # declared float, declared int, unknown
        with pytest.raises(ParameterError, match=f"would become {became}"):
            typed_parse(text, name, _declared())
    assert main(["run", str(nb), "-p", "alpha", text, "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert f"parameter 'alpha': {text!r} is out of the range of a float" in err
    assert not runs_dir.exists()
    sets = nb.parent / "sets.csv"
    sets.write_text(f"alpha\n0.1\n{text}\n", encoding="utf-8")
    assert main(["sweep", str(nb), "--list", str(sets), "--runs-dir", str(runs_dir)]) == 2
    assert "is out of the range of a float" in capsys.readouterr().err
    assert not runs_dir.exists()


@pytest.mark.parametrize(
    ("text", "value"),
    [("inf", "inf"), ("-Infinity", "-inf"), ("1e308", "1e308"), ("0e5", "0.0"), ("5e-324", "")],
)
def test_numbers_written_as_such_stay(text: str, value: str) -> None:
    got = typed_parse(text, "alpha", _declared())
    assert isinstance(got, float) and (not value or got == float(value))
    assert typed_parse(text, "name", _declared()) == text  # a str parameter keeps the text


def test_integers_stay_exact_and_too_many_digits_is_one_line(
    nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = "9" * 30
    assert typed_parse(big, "n", _declared()) == int(big)
    huge = "9" * 5000  # past Python's limit of digits read from text
    with pytest.raises(ParameterError, match=r"is an integer of more than 4300 digits"):
        typed_parse(huge, "n", _declared())
    # an int too large for a float, given to a float parameter: refused, not a crash
    assert main(["run", str(nb), "-p", "alpha", "1" + "0" * 400, "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert "parameter 'alpha' expects float, but was given 1000" in err
    assert "... (401 characters) (int)" in err and len(err) < 300


@pytest.mark.parametrize(
    ("name", "value", "expects"),
    [
        ("x", ["a"], "list[int]"),
        ("x", [1.5], "list[int]"),
        ("x", [True], "list[int]"),
        ("pair", [1], "tuple[int, int]"),
        ("pair", [1, "2"], "tuple[int, int]"),
        ("many", [1, "a"], "tuple[float, ...]"),
        ("weights", {"a": "heavy"}, "dict[str, float]"),
        ("nested", [[1], ["a"]], "list[list[int]] | None"),
    ],
)
def test_typed_containers_are_checked_element_by_element(
    nb: Path,
    runs_dir: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: Any,
    expects: str,
) -> None:
    import json

    with pytest.raises(ParameterError, match=re.escape(f"parameter {name!r} expects {expects},")):
        validate(_declared(), {name: value})
    assert main(["run", str(nb), "-p", name, json.dumps(value), "--runs-dir", str(runs_dir)]) == 2
    assert f"parameter {name!r} expects {expects}, but was given" in capsys.readouterr().err
    grid = nb.parent / "grid.yaml"
    grid.write_text(f"{name}: [{json.dumps(value)}]\n", encoding="utf-8")
    assert main(["sweep", str(nb), "--grid", str(grid), "--runs-dir", str(runs_dir)]) == 2
    assert f"parameter {name!r} expects {expects}" in capsys.readouterr().err
    assert not runs_dir.exists()


def test_accepted_container_values_are_given_in_the_declared_types() -> None:
    merged = validate(
        _declared(),
        {"many": [1, 2.5], "weights": {"a": 1}, "pair": (3, 4), "c": [1], "nested": [[1]]},
    )
    assert merged["many"] == [1.0, 2.5] and type(merged["many"][0]) is float
    assert merged["weights"] == {"a": 1.0} and type(merged["weights"]["a"]) is float
    assert merged["pair"] == [3, 4]  # JSON's list, as the record keeps it
    assert merged["c"] == [1]  # a bare tuple is of any length, as in typing
    assert merged["nested"] == [[1]]


def test_inspect_shows_the_declared_container_types(
    nb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(nb), "--json"]) == 0
    import json

    shown = {p["name"]: p["type"] for p in json.loads(capsys.readouterr().out)["parameters"]}
    assert shown == {
        "alpha": "float",
        "name": "str",
        "n": "int",
        "x": "list[int]",
        "c": "tuple",
        "pair": "tuple[int, int]",
        "many": "tuple[float, ...]",
        "weights": "dict[str, float]",
        "nested": "list[list[int]] | None",
    }
    (inferred,), _ = parse_parameters_source("c = (1, 2)")
    assert str(inferred.type) == "tuple" and inferred.default == [1, 2]
