from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.results.diff import diff_runs
from mlops_nb.results.rerun import same
from mlops_nb.store import runs as store
from tests import nbbuild as b
from tests.results.factory import make_run


@pytest.fixture
def two(runs_dir: Path) -> tuple[Path, Path]:
    a = make_run(
        runs_dir,
        params={"C": 1.0, "model": "rf"},
        scraps={"f1": 0.8, "tag": "x"},
        code="y = C * 2",
        packages={"numpy": "2.0", "pandas": "3.0"},
        inputs={"data.csv": {"sha256": "aaa", "size": 1}},
        git={"commit": "abc", "dirty": False},
    )
    b_ = make_run(
        runs_dir,
        params={"C": 0.5, "model": "rf", "depth": 3},
        scraps={"f1": 0.85, "tag": "x"},
        code="y = C * 3",
        packages={"numpy": "2.1", "pandas": "3.0", "scipy": "1.0"},
        inputs={"data.csv": {"sha256": "bbb", "size": 1}},
        git={"commit": "def", "dirty": True},
    )
    return a, b_


def test_diff_of_runs_with_different_code_and_params(two: tuple[Path, Path]) -> None:
    d = diff_runs(*two)
    assert [(c.name, c.a, c.b) for c in d.params] == [("C", 1.0, 0.5), ("depth", None, 3)]
    assert [(c.name, c.a, c.b) for c in d.scraps] == [("f1", 0.8, 0.85)]
    assert d.scraps[0].delta == pytest.approx(0.05)
    assert "-y = C * 2" in d.code
    assert "+y = C * 3" in d.code
    assert " # ---- cell 2 ----" in d.code
    assert [(c.name, c.a, c.b) for c in d.packages] == [
        ("numpy", "2.0", "2.1"),
        ("scipy", None, "1.0"),
    ]
    assert [(c.name, c.a, c.b) for c in d.inputs] == [("data.csv", "aaa", "bbb")]
    assert d.git is not None
    assert (d.git.a, d.git.b) == ("abc", "def (dirty)")
    assert not d.identical


def test_diff_command(two: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    a, b_ = two
    assert main(["diff", a.name, b_.name, "--runs-dir", str(a.parent)]) == 0
    out = capsys.readouterr().out
    assert "  C: 1 -> 0.5" in out
    assert "  f1: 0.8 -> 0.85  (+0.05)" in out
    assert "commit: 'abc' -> 'def (dirty)'" in out
    assert "+y = C * 3" in out
    assert main(["diff", a.name, "latest", "--runs-dir", str(a.parent), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["identical"] is False
    assert data["params"][0] == {"name": "C", "a": 1.0, "b": 0.5, "delta": None}
    assert main(["diff", a.name, a.name, "--runs-dir", str(a.parent)]) == 0
    assert "do not differ" in capsys.readouterr().out
    assert main(["diff", a.name, "nope", "--runs-dir", str(a.parent)]) == 2


@pytest.mark.parametrize(
    ("a", "b", "rtol", "expected"),
    [
        (1, 1, 0.0, True),
        (1, 2, 0.5, False),  # ints: exact, rtol ignored
        ("a", "a", 0.0, True),
        (True, 1, 0.0, False),
        (0.1 + 0.2, 0.3, 1e-9, True),
        (1.0, 1.001, 1e-4, False),
        (1.0, 1.001, 1e-2, True),
        (float("nan"), float("nan"), 0.0, True),
        (None, None, 0.0, True),
        (None, 0.0, 0.0, False),
    ],
)
def test_scrap_equality(a: object, b: object, rtol: float, expected: bool) -> None:
    assert same(a, b, rtol=rtol) is expected


@pytest.mark.kernel
def test_rerun_check_reproducible_and_not(
    runs_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(
        tmp_path / "nb.ipynb",
        b.params("x = 2\nseed = None"),
        b.code(
            "import random\nimport scrapbook as sb\n"
            "rng = random.Random(seed)\n"
            "sb.glue('y', x * 3)\nsb.glue('r', rng.random())\nsb.glue('s', 'same')"
        ),
    )
    rd = str(runs_dir)
    assert (
        main(
            [
                "run",
                str(nb),
                "-p",
                "x",
                "4",
                "-p",
                "seed",
                "7",
                "--runs-dir",
                rd,
                "--name",
                "seeded",
            ]
        )
        == 0
    )
    assert main(["run", str(nb), "--runs-dir", rd, "--name", "unseeded"]) == 0
    # Change the file: a rerun executes the code recorded in the run, not the current file.
    b.write(nb, b.params("x = 2\nseed = None"), b.code("raise SystemExit('edited')"))
    capsys.readouterr()
    original = store.resolve_run(runs_dir, "seeded").name

    assert main(["rerun", "seeded", "--check", "--runs-dir", rd]) == 0
    out = capsys.readouterr().out
    assert "reproducible: all scalar scraps match" in out
    new = store.resolve_run(runs_dir, "latest")
    record = store.read_record(new)
    assert record["rerun_of"] == original
    assert record["params"] == {"x": 4, "seed": 7}
    assert record["scraps"]["y"] == 12

    assert main(["rerun", "unseeded", "--check", "--runs-dir", rd]) == 1
    out = capsys.readouterr().out
    assert "NOT reproducible: 1 scrap(s) differ" in out
    assert "  r: " in out
    assert "  y:" not in out
