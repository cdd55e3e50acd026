"""A shared value (-p/-r/-y/-f, ``params=``) for a parameter the grid or list also sets is a
usage error naming the parameter, not a value dropped without a word (review3 finding 11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlops_nb.errors import UsageError
from mlops_nb.main import main
from mlops_nb.sweep import plan
from tests import nbbuild as b


@pytest.fixture
def nb_path(tmp_path: Path) -> Path:
    return b.write(
        tmp_path / "train.ipynb",
        b.params("from typing import Literal\nmodel: Literal['logreg', 'rf'] = 'rf'\nC = 1.0"),
        b.code("x = (model, C)"),
    )


@pytest.mark.parametrize(
    ("given", "by"),
    [
        pytest.param({"grid": {"model": ["logreg"], "C": [1.0]}}, "the grid;", id="grid-mapping"),
        pytest.param(
            {"grid": {"model": ["logreg", "rf"]}, "sample": 1}, "the grid;", id="grid-sample"
        ),
        pytest.param({"sets_": [{"C": 2.0}, {"model": "rf"}]}, "the list;", id="list-one-row"),
    ],
)
def test_a_parameter_given_both_ways_is_refused(
    nb_path: Path, given: dict[str, Any], by: str
) -> None:
    with pytest.raises(UsageError, match=f"parameter 'model' is given both .* by {by}"):
        plan.expand(nb_path, params={"model": "logreg"}, **given)


def test_shared_values_for_other_parameters_still_merge(nb_path: Path) -> None:
    found, source = plan.expand(nb_path, grid={"C": [1.0, 2.0]}, params={"model": "logreg"})
    assert found == [{"model": "logreg", "C": 1.0}, {"model": "logreg", "C": 2.0}]
    assert source["shared"] == {"model": "logreg"}
    found, _ = plan.expand(nb_path, sets_=[{"C": 3.0}], params={"model": "logreg"})
    assert found == [{"model": "logreg", "C": 3.0}]


@pytest.mark.parametrize(
    ("flags", "source", "named"),
    [
        pytest.param(["-p", "model", "rf"], "--grid", "'model'", id="p-grid"),
        pytest.param(["-p", "model", "nosuch"], "--grid", "'model'", id="p-invalid-grid"),
        pytest.param(["-p", "C", "2", "-p", "model", "rf"], "--list", "'C', 'model'", id="list"),
    ],
)
def test_cli_one_line_exit_2_nothing_run(
    nb_path: Path,
    tmp_path: Path,
    flags: list[str],
    source: str,
    named: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    grid = tmp_path / "g.yaml"
    grid.write_text("model: [logreg]\nC: [1.0]\n")
    lst = tmp_path / "sets.csv"
    lst.write_text("model,C\nlogreg,1.0\n")
    given = str(grid) if source == "--grid" else str(lst)
    runs_dir = tmp_path / "runs"
    args = ["sweep", str(nb_path), source, given, *flags, "--no-prewarm"]
    assert main([*args, "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"parameter {named} is given both as a shared value" in err
    assert f"by the {source[2:]} {given};" in err
    assert not runs_dir.exists()
