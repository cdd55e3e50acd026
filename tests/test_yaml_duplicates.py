"""A key given twice in a YAML file, or a column twice in a CSV list, is refused with its file and
line (exit 2, nothing run): PyYAML and csv would keep one value silently. review5 item 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb import yaml_io
from mlops_nb.errors import ConfigError
from mlops_nb.main import main
from tests import nbbuild as b

TWICE = "each key may appear once in a mapping: rename or remove one."


@pytest.fixture
def nb(tmp_path: Path) -> Path:
    return b.write(tmp_path / "nb.ipynb", b.params("alpha = 0.5\nbeta = 1"), b.code("x = alpha"))


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.rstrip("\n")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: 1\nb: 2\na: 3\n", "line 3, column 1: key 'a' is given twice (first at line 1)"),
        ("{a: 1, b: 2, a: 3}\n", "line 1, column 14: key 'a' is given twice (first at line 1)"),
        (
            "- x: 1\n  y:\n    z: 1\n    z: 2\n",
            "line 4, column 5: key 'z' is given twice (first at line 3)",
        ),
        ("1: a\n1: b\n", "line 2, column 1: key 1 is given twice (first at line 1)"),
    ],
    ids=["block", "flow", "nested", "int"],
)
def test_a_key_twice_is_refused_with_its_line(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as e:
        yaml_io.loads(text, source="f.yaml")
    assert e.value.message == f"f.yaml: invalid YAML at {where}; {TWICE}"


def test_merge_keys_may_still_be_overridden() -> None:
    text = "base: &b {a: 1, c: 3}\nthis:\n  <<: *b\n  a: 2\n"
    assert yaml_io.loads(text, source="s")["this"] == {"a": 2, "c": 3}


def test_a_step_pasted_twice_in_a_pipeline_is_refused(
    tmp_path: Path, nb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "dup.yaml"
    p.write_text(
        "name: dup\nsteps:\n  a: {notebook: nb.ipynb, params: {alpha: 0.1}}\n"
        "  a: {notebook: nb.ipynb}\n"
    )
    for action in ("show", "run", "status"):
        assert main(["pipeline", action, str(p)]) == 2
        assert _one_line(capsys) == (
            f"mlops-nb: error: {p}: invalid YAML at line 4, column 3: key 'a' is given twice "
            f"(first at line 3); {TWICE}"
        )
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("option", "name", "text", "message"),
    [
        ("--grid", "g.yaml", "alpha: [1.5]\nalpha: [2.5]\n", "invalid YAML at line 2, column 1"),
        ("--grid", "g.yaml", "1: [1]\n'1': [2]\n", "parameter '1' is given twice"),
        ("--list", "l.yaml", "- {alpha: 1, alpha: 2}\n", "invalid YAML at line 1, column 14"),
        ("--list", "l.yaml", "- {1: 1, '1': 2}\n", "item 1: parameter '1' is given twice"),
        ("--list", "sets.csv", "alpha,beta, alpha\n0.1,2,0.9\n", ":1: column 'alpha' appears 2"),
    ],
    ids=["grid", "grid-str-int", "list", "list-str-int", "csv"],
)
def test_a_sweep_with_a_value_given_twice_runs_nothing(
    tmp_path: Path,
    nb: Path,
    runs_dir: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    name: str,
    text: str,
    message: str,
) -> None:
    f = tmp_path / name
    f.write_text(text)
    assert main(["sweep", str(nb), option, str(f), "--runs-dir", str(runs_dir)]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"mlops-nb: error: {f}") and message in line, line
    assert not runs_dir.exists()


def test_a_params_file_with_a_key_twice_runs_nothing(
    tmp_path: Path, nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("alpha: 1\nbeta: 2\nalpha: 3\n")
    assert main(["run", str(nb), "-f", str(f), "--runs-dir", str(runs_dir)]) == 2
    assert _one_line(capsys) == (
        f"mlops-nb: error: {f}: invalid YAML at line 3, column 1: key 'alpha' is given twice "
        f"(first at line 1); {TWICE}"
    )
    assert main(["run", str(nb), "-y", "{alpha: 1, alpha: 2}", "--runs-dir", str(runs_dir)]) == 2
    assert "key 'alpha' is given twice" in _one_line(capsys)
    assert not runs_dir.exists()


def test_an_unhashable_key_is_still_pyyamls_error() -> None:
    with pytest.raises(ConfigError) as e:
        yaml_io.loads("? [1]\n: 2\n", source="f.yaml")
    assert e.value.message == "f.yaml: invalid YAML at line 1, column 3: found unhashable key."
