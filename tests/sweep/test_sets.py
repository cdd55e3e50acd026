"""Parameter sets: grid, list (YAML/CSV), sample, shared values, validation; the sweep id."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.errors import ConfigError, ParameterError, UsageError
from mlops_nb.notebook.params import parse_notebook_params
from mlops_nb.sweep import plan, record, sets
from tests import nbbuild as b

NB = b.notebook(
    b.params("lr = 0.1  # learning rate\nC = 1\nname = 'a'\nlayers = [8]"),
    b.code("import json\nfrom collections import OrderedDict\n%time x = 1\nprint(lr)"),
)


@pytest.fixture
def nb_path(tmp_path: Path) -> Path:
    return b.write(tmp_path / "nb.ipynb", *NB["cells"])


def test_grid_is_the_cartesian_product_last_name_fastest() -> None:
    axes = sets.grid_axes({"lr": [0.1, 0.2], "C": [1, 2, 3], "name": "fixed"})
    got = sets.grid_sets(axes)
    assert len(got) == sets.grid_size(axes) == 6
    assert got[0] == {"lr": 0.1, "C": 1, "name": "fixed"}
    assert got[1] == {"lr": 0.1, "C": 2, "name": "fixed"}
    assert got[-1] == {"lr": 0.2, "C": 3, "name": "fixed"}


@pytest.mark.parametrize(
    ("grid", "message"),
    [({}, "a grid is a YAML mapping"), ({"lr": []}, "empty list"), ([1, 2], "a grid is")],
    ids=["empty", "empty-values", "not-a-mapping"],
)
def test_bad_grids_are_config_errors(grid: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        sets.grid_axes(grid)  # type: ignore[arg-type]


def test_sample_draws_distinct_sets_deterministically() -> None:
    axes = sets.grid_axes({"lr": [0.1, 0.2, 0.3], "C": [1, 2, 3, 4]})
    a = sets.sample_sets(axes, 5, seed=7)
    assert a == sets.sample_sets(axes, 5, seed=7)
    assert len({tuple(s.items()) for s in a}) == 5
    assert all(s in sets.grid_sets(axes) for s in a)
    assert a != sets.sample_sets(axes, 5, seed=8)
    with pytest.raises(UsageError, match="more sets than the grid holds"):
        sets.sample_sets(axes, 13, seed=0)


def test_yaml_grid_and_list_files(nb_path: Path, tmp_path: Path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text("lr: [0.01, 0.1]\nlayers: [[8, 4], [16]]\n")
    found, source = plan.expand(nb_path, grid=str(grid), params={"C": 5})
    assert found == [
        {"C": 5, "lr": 0.01, "layers": [8, 4]},
        {"C": 5, "lr": 0.01, "layers": [16]},
        {"C": 5, "lr": 0.1, "layers": [8, 4]},
        {"C": 5, "lr": 0.1, "layers": [16]},
    ]
    assert source == {"grid": str(grid), "shared": {"C": 5}}
    lst = tmp_path / "list.yaml"
    lst.write_text("- {lr: 0.5}\n- {lr: 0.7, name: b}\n")
    found, _ = plan.expand(nb_path, sets_=str(lst))
    assert found == [{"lr": 0.5}, {"lr": 0.7, "name": "b"}]


def test_csv_list_reads_cells_by_parameter_type(nb_path: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "sets.csv"
    csv_file.write_text('lr,C,name,layers\n0.5,2,007,"[1, 2]"\n1,,x,\n')
    found, _ = plan.expand(nb_path, sets_=str(csv_file))
    assert found == [{"lr": 0.5, "C": 2, "name": "007", "layers": [1, 2]}, {"lr": 1, "name": "x"}]


def test_csv_row_with_wrong_width_names_the_line(nb_path: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "sets.csv"
    csv_file.write_text("lr,C\n0.5,2\n0.1\n")
    with pytest.raises(ConfigError, match=r"sets.csv:3: 1 values for 2 columns"):
        plan.expand(nb_path, sets_=str(csv_file))


def test_every_bad_set_is_reported_at_once(nb_path: Path) -> None:
    bad: list[dict[str, object]] = [{"lr": 0.1}, {"lr": "fast"}, {"lrr": 1}, {"C": "x"}, {"lrr": 2}]
    with pytest.raises(ParameterError) as info:
        plan.expand(nb_path, sets_=bad)
    msg = str(info.value)
    assert "4 of 5 parameter sets are invalid (nothing was run)" in msg
    assert "set 2:" in msg
    assert "set 4:" in msg
    assert "set 3, 5: unknown parameter 'lrr'. Did you mean 'lr'?" in msg


def test_one_source_exactly_and_sample_needs_a_grid(nb_path: Path) -> None:
    with pytest.raises(UsageError, match="exactly one of --grid"):
        plan.expand(nb_path)
    with pytest.raises(UsageError, match="--sample draws from a grid"):
        plan.expand(nb_path, sets_=[{"lr": 1.0}], sample=1)
    with pytest.raises(ConfigError, match="item 2 is not a mapping"):
        plan.expand(nb_path, sets_=[{"lr": 1.0}, 3])  # type: ignore[list-item]


def test_sweep_id_is_deterministic(tmp_path: Path) -> None:
    p = tmp_path / "train.ipynb"
    a = record.sweep_id(p, "abc", [{"lr": 0.1}, {"lr": 0.2}])
    assert a == record.sweep_id(p, "abc", [{"lr": 0.1}, {"lr": 0.2}])
    assert a.startswith("train-")
    assert a != record.sweep_id(p, "abd", [{"lr": 0.1}, {"lr": 0.2}])
    assert a != record.sweep_id(p, "abc", [{"lr": 0.1}])


def test_preload_auto_lists_the_notebooks_imports() -> None:
    assert plan.preload_modules("auto", NB, check=True) == ("json", "collections")
    assert plan.preload_modules(" json , csv ", NB, check=True) == ("json", "csv")
    assert plan.preload_modules(None, NB, check=True) == ("json", "collections")  # the default
    assert plan.preload_modules("", NB, check=True) == ()  # --no-preload
    assert plan.preload_modules((), NB, check=True) == ()
    with pytest.raises(UsageError, match="no module 'no_such_module_xyz'"):
        plan.preload_modules("json,no_such_module_xyz", NB, check=True)
    with pytest.raises(UsageError, match="not module names"):
        plan.preload_modules("json;rm -rf", NB, check=True)


def test_describe_clips_long_parameter_text() -> None:
    assert sets.describe({"lr": 0.1, "name": "a"}) == "lr=0.1 name='a'"
    assert len(sets.describe({"x": "y" * 200})) == 60


def test_declared_types_drive_csv_parsing() -> None:
    declared = parse_notebook_params(NB)
    assert sets.list_sets([None, {"lr": 1}]) == [{}, {"lr": 1}]
    assert declared.get("name") is not None
