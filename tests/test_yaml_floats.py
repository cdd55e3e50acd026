"""A float written in YAML that a float cannot hold (``1.0e+400`` would become inf, ``1.0e-400``
0.0) is refused with its file and line, as ``-p`` refuses it (exit 2, nothing run); ``.inf`` and
``.nan`` keep their YAML meaning. review5 item 14's kind, in every YAML the product reads."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mlops_nb import yaml_io
from mlops_nb.errors import ConfigError
from mlops_nb.main import main
from tests import nbbuild as b


@pytest.mark.parametrize(
    ("text", "where", "became"),
    [
        ("a: 1.0e+400\n", "line 1, column 4", "inf"),
        ("a: [1.5, -1.0e+400]\n", "line 1, column 10", "inf"),
        ("a:\n  b: 1.0e-400\n", "line 2, column 6", "0.0"),
        ("a: 1_0.0e+999\n", "line 1, column 4", "inf"),
    ],
)
def test_a_float_out_of_range_is_refused_with_its_line(text: str, where: str, became: str) -> None:
    with pytest.raises(ConfigError, match=f"g.yaml: .*{where}: .* would become {became}"):
        yaml_io.loads(text, source="g.yaml")


def test_floats_in_range_and_yamls_own_infinities_are_read() -> None:
    got = yaml_io.loads("a: 1.5e+300\nb: .inf\nc: -.Inf\nd: .NaN\ne: 0.0\nf: 1_000.5\n", source="g")
    assert got["a"] == 1.5e300 and got["b"] == math.inf and got["c"] == -math.inf
    assert math.isnan(got["d"]) and (got["e"], got["f"]) == (0.0, 1000.5)


@pytest.fixture
def nb(tmp_path: Path) -> Path:
    return b.write(tmp_path / "nb.ipynb", b.params("alpha = 0.5"), b.code("x = alpha"))


def test_no_run_starts_from_a_grid_or_parameters_with_such_a_float(
    nb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    grid = tmp_path / "grid.yaml"
    grid.write_text("alpha: [0.1, 1.0e+400]\n", encoding="utf-8")
    assert main(["sweep", str(nb), "--grid", str(grid), "--runs-dir", str(runs)]) == 2
    assert "grid.yaml: invalid YAML at line 1, column 14: 1.0e+400 is out of the range" in (
        capsys.readouterr().err
    )
    assert main(["run", str(nb), "-y", "alpha: 1.0e-400", "--runs-dir", str(runs)]) == 2
    assert "would become 0.0" in capsys.readouterr().err
    assert not runs.exists()
