"""A pipeline's `show:` naming a scrap its notebook never glues is reported when the file is
validated (where the notebook's glue calls say so), and after a run in any case."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.errors import ConfigError
from mlops_nb.pipeline import spec
from mlops_nb.pipeline.shows import glued_names
from tests import nbbuild as b

LITERAL = 'import scrapbook as sb\nsb.glue("f1", 0.5)\nsb.glue(name="loss", data=1)'
LOOP = (
    'import scrapbook as sb\nresults = {"n_rows": 3, "missing_rate": 0.0}\n'
    "for name, value in results.items():\n    sb.glue(name, value)"
)
UNKNOWN = (
    'import scrapbook as sb\nresults = {**other, "n": 1}\n'
    "for name, value in results.items():\n    sb.glue(name, value)"
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (LITERAL, {"f1", "loss"}),
        (LOOP, {"n_rows", "missing_rate"}),
        (UNKNOWN, None),
        (LOOP.replace("\nfor", "\nresults |= extra\nfor"), None),
        (LOOP.replace("\nfor", "\nresults['late'] = 1\nfor"), None),
        (LOOP.replace("\nfor", "\nresults.update(extra)\nfor"), None),
        (LOOP.replace("\nfor", "\nresults = dict(x=1)\nfor"), None),
        ("from scrapbook import glue\nfor k in names:\n    glue(k, 1)", None),
        ("%time x = 1", None),
        ("x = 1", set()),
    ],
    ids=[
        "literal",
        "dict-loop",
        "unpacked-dict",
        "dict-or-assigned",
        "dict-item-set",
        "dict-updated",
        "dict-reassigned",
        "computed",
        "magic",
        "no-glue",
    ],
)
def test_glued_names(code: str, expected: set[str] | None) -> None:
    assert glued_names(b.notebook(b.params("a = 1"), b.code(code))) == expected


def _pipeline(tmp_path: Path, code: str, show: str) -> Path:
    b.write(tmp_path / "eda.ipynb", b.params("a = 1"), b.code(code))
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"name: p\nsteps:\n  eda:\n    notebook: eda.ipynb\n    show: {show}\n")
    return path


def test_unglued_show_is_reported_at_validation(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, LOOP, "[n_rows, positive_rate, missing_rat]")
    with pytest.raises(ConfigError) as e:
        spec.load(path)
    msg = e.value.message
    assert "step 'eda': show: 'positive_rate' is never glued by" in msg
    assert "it glues missing_rate, n_rows" in msg
    assert "'missing_rat' is never glued" in msg and "did you mean 'missing_rate'" in msg
    assert "n_rows' is never" not in msg


def test_unknown_glue_names_are_not_guessed(tmp_path: Path) -> None:
    assert spec.load(_pipeline(tmp_path, UNKNOWN, "[anything]")).steps["eda"].show == ("anything",)


@pytest.mark.parametrize("name", ["pipeline.yaml"])
def test_the_shipped_pipelines_show_what_they_glue(name: str) -> None:
    root = Path(__file__).resolve().parents[2]
    for folder in ("notebooks", "templates"):
        spec.load(root / folder / name)  # raises on a show: name never glued


@pytest.mark.kernel
def test_a_shown_scrap_this_run_did_not_glue_is_said_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """review4 item 15: a first deployment has no champion to compare with, so its shadow step
    glues no delta; "(not glued: ...)" read like an error in the summary."""
    from mlops_nb.main import main

    code = "import scrapbook as sb\nsb.glue('n', a)\nif a > 1:\n    sb.glue('delta', 0.5)"
    path = _pipeline(tmp_path, code, "[n, delta]")
    assert main(["pipeline", "run", str(path), "--runs-dir", str(tmp_path / "runs")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("  eda"))
    assert "  n=1  (not in this run: delta)  [never run]" in line, line
