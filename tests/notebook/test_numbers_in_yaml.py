"""Numbers written as numbers are numbers wherever parameters are read: inside ``-p`` lists and
dicts, ``-y``, ``-f``, grids, ``--list`` YAML and pipeline params (YAML 1.2 floats such as
``1e-3``, which YAML 1.1 reads as text); ``-p`` containers read ``None``/``inf``/``nan`` as a plain
``-p`` does; a number out of the float range is refused inside containers too (review7 M6)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from mlops_nb import yaml_io
from mlops_nb.errors import ConfigError
from mlops_nb.main import main
from mlops_nb.sweep.sets import grid_axes, list_sets
from tests import nbbuild as b

PARAMS = (
    "alpha: float = 0.5\n"
    "fl: list[float] = []\n"
    "anyl: list = []\n"
    "anyd: dict = {}\n"
    "opt: list[int] | None = None\n"
)


@pytest.fixture
def nb(tmp_path: Path) -> Path:
    return b.write(tmp_path / "c.ipynb", b.params(PARAMS), b.code("y = 1"))


def prepared(nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code = main(["run", str(nb), *args, "--prepare-only", "--json", "--runs-dir", str(runs_dir)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)["params"]


def refused(nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["run", str(nb), *args, "--prepare-only", "--runs-dir", str(runs_dir)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("args", "name", "expected"),
    [
        (("-p", "fl", "[1e-3, 2]"), "fl", [0.001, 2.0]),
        (("-p", "fl", "[1E5, .5e1, -2.5e+3]"), "fl", [1e5, 5.0, -2500.0]),
        (("-p", "anyl", "[1e-3, None, 'None', x]"), "anyl", [0.001, None, "None", "x"]),
        (("-p", "anyd", '{"a": None, "b": 1e-3}'), "anyd", {"a": None, "b": 0.001}),
        (("-p", "opt", "[1, None]"), "opt", None),  # list[int] | None: refused below
        (("-y", "alpha: 1e-3"), "alpha", 0.001),
        (("-y", "fl: [1e-3, 1.0e-2]"), "fl", [0.001, 0.01]),
    ],
)
def test_numbers_are_numbers_in_containers_and_yaml(
    nb: Path,
    runs_dir: Path,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    name: str,
    expected: Any,
) -> None:
    if expected is None:
        err = refused(nb, runs_dir, capsys, *args)
        assert "[1, None]" in err  # None is None, not the text 'None'
        return
    assert prepared(nb, runs_dir, capsys, *args)[name] == expected


def test_non_finite_spellings_in_a_p_list_are_floats(
    nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got = yaml_io.param_loads("[inf, -Infinity, nan, .inf, 'inf']", source="-p anyl")
    assert got[0] == math.inf and got[1] == -math.inf and math.isnan(got[2])
    assert got[3] == math.inf and got[4] == "inf"


@pytest.mark.parametrize("text", ["[1e400]", "[1, -1e400]", "{a: 1e-400}", "[[2.0e+999]]"])
def test_a_number_out_of_range_inside_a_container_is_refused(
    nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    name = "anyd" if text.startswith("{") else "anyl"
    err = refused(nb, runs_dir, capsys, "-p", name, text)
    assert "is out of the range of a float" in err
    assert "is out of the range of a float" in refused(nb, runs_dir, capsys, "-y", f"anyl: {text}")
    assert not runs_dir.exists()


def test_files_grids_and_lists_read_yaml_12_floats(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("alpha: 1e-3\nfl: [2E2, 3e+1]\nname: 1e\n", encoding="utf-8")
    assert yaml_io.load(f) == {"alpha": 0.001, "fl": [200.0, 30.0], "name": "1e"}
    assert grid_axes(yaml_io.loads("alpha: [1e-3, 1.0e-2]", source="g"))["alpha"] == [0.001, 0.01]
    sets = list_sets(yaml_io.loads("- {alpha: 5e-1}\n- {alpha: 1}", source="l"))
    assert [s["alpha"] for s in sets] == [0.5, 1]
    with pytest.raises(ConfigError, match=r"g: invalid YAML at line 1, column 9: 1e400 is out"):
        yaml_io.loads("alpha: [1e400]", source="g")
    # YAML 1.1 floats, ints and text stay as they were
    assert yaml_io.loads("[1.5, 12, 0x1f, e5, .inf, None, 1.0e+3]", source="s") == [
        1.5,
        12,
        31,
        "e5",
        math.inf,
        "None",
        1000.0,
    ]


def test_a_sweep_grid_of_yaml_12_floats_passes_the_type_check(tmp_path: Path) -> None:
    from mlops_nb.notebook.params import NotebookParams, parse_parameters_source
    from mlops_nb.sweep.sets import check_sets, grid_sets, load_grid

    grid = tmp_path / "g.yaml"
    grid.write_text("alpha: [1e-3, 1.0e-2]\nfl: [[1e-3, 2]]\n", encoding="utf-8")
    specs, _ = parse_parameters_source(PARAMS)
    sets = grid_sets(load_grid(grid))
    check_sets(sets, NotebookParams(cell_index=0, specs=specs), source=str(grid))  # no error
    assert [s["alpha"] for s in sets] == [0.001, 0.01]
