"""A CSV ``--list`` names the file, the set and the line of every cell it cannot read (a number
out of the float range, a list that is not YAML), together with the sets the types refuse, all
at once and before anything runs (review7 L3); ``run --prepare-only --json`` shows the values
as the notebook gets them (review7 L9: ``1e+22`` for a ``float`` parameter given an int)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.main import main
from tests import nbbuild as b

PARAMS = "alpha: float = 0.5\nn: int = 1\nxs: list = []\nfl: list[float] = []\n"


@pytest.fixture
def nb(tmp_path: Path) -> Path:
    return b.write(tmp_path / "nb.ipynb", b.params(PARAMS), b.code("y = 1"))


def test_every_bad_csv_set_is_named_with_its_line(
    nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sets = nb.parent / "s.csv"
    sets.write_text(
        'alpha,n,xs\n1e400,1,\nabc,2,\n0.5,3,"[1e-400]"\n0.1,x,\n0.2,1e999,\n0.3,4,[1]\n'
        '0.4,5,"[1, 2"\n',
        encoding="utf-8",
    )
    assert main(["sweep", str(nb), "--list", str(sets), "--runs-dir", str(runs_dir)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].endswith(f"{sets}: 6 of 7 parameter sets are invalid (nothing was run):")
    assert lines[1].startswith("  set 1: (line 2) parameter 'alpha': '1e400' is out of the range")
    assert lines[2] == "  set 2: parameter 'alpha' expects float, but was given 'abc' (str)."
    assert lines[3].startswith(
        "  set 3: (line 4) column 'xs': invalid YAML at line 1, column 2: 1e-400 is out of"
    )
    assert lines[4] == "  set 4: parameter 'n' expects int, but was given 'x' (str)."
    assert lines[5].startswith("  set 5: (line 6) parameter 'n': '1e999' is out of the range")
    assert lines[6].startswith("  set 7: (line 8) column 'xs': invalid YAML")
    assert len(lines) == 7
    assert not runs_dir.exists()


def test_prepare_only_json_shows_what_the_notebook_gets(
    nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", str(nb), "-p", "alpha", "9999999999999999999999", "-p", "fl", "[1, 2e-3]"]
    assert (
        main([*args, "-p", "n", "3", "--prepare-only", "--json", "--runs-dir", str(runs_dir)]) == 0
    )
    out = capsys.readouterr().out
    params = json.loads(out)["params"]
    assert params == {"alpha": 1e22, "fl": [1.0, 0.002], "n": 3}
    assert type(params["alpha"]) is float and type(params["n"]) is int
    assert '"alpha": 1e+22' in out
    prepared = json.loads(Path(json.loads(out)["prepared"]).read_text(encoding="utf-8"))
    source = "".join(
        "".join(c["source"]) for c in prepared["cells"] if "injected-parameters" in str(c)
    )
    assert "alpha = 1e+22" in source and "fl = [1.0, 0.002]" in source
