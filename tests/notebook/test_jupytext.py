"""Jupytext notebooks (.py percent format, .md) wherever an .ipynb is accepted: run, sweep,
inspect, lint, pipelines; the parameters cell found by its tag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.notebook.io import read_notebook

PERCENT = """\
# %% [markdown]
# A notebook kept as a Python file

# %% tags=["parameters"]
alpha = 0.5  # the rate
depth = None

# %%
import scrapbook as sb

sb.glue("score", alpha * 2)
"""

MARKDOWN = """\
# A notebook kept as Markdown

```python tags=["parameters"]
alpha = 0.5
```

```python
import scrapbook as sb
sb.glue("score", alpha * 3)
```
"""


@pytest.fixture
def py_nb(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text(PERCENT, encoding="utf-8")
    return path


def test_parameters_cell_found_by_its_tag(py_nb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nb = read_notebook(py_nb)
    assert [c["cell_type"] for c in nb["cells"]] == ["markdown", "code", "code"]
    assert nb["cells"][1]["metadata"]["tags"] == ["parameters"]
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert main(["inspect", str(py_nb)]) == 0
    out = capsys.readouterr().out
    assert "alpha  float  0.5      the rate" in out
    assert "depth  any    None" in out


@pytest.mark.kernel
def test_py_percent_notebook_run_swept_and_linted(
    py_nb: Path, tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["run", str(py_nb), "-p", "alpha", "0.25", "--runs-dir", str(runs_dir), "--json"]) == 0
    )
    record = json.loads(capsys.readouterr().out)
    assert record["status"] == "ok"
    assert record["scraps"] == {"score": 0.5}
    assert record["notebook"]["path"] == str(py_nb)
    grid = tmp_path / "grid.yaml"
    grid.write_text("alpha: [1]\n")
    assert main(["sweep", str(py_nb), "--grid", str(grid), "--runs-dir", str(runs_dir)]) == 0
    capsys.readouterr()
    assert main(["collect", "--runs-dir", str(runs_dir), "--format", "json"]) == 0
    scores = sorted(r["scraps.score"] for r in json.loads(capsys.readouterr().out))
    assert scores == [0.5, 2]
    assert main(["lint", str(py_nb)]) == 0
    bad = tmp_path / "bad.py"
    bad.write_text(PERCENT.replace('tags=["parameters"]', ""), encoding="utf-8")
    assert main(["lint", str(bad)]) == 1  # no parameters cell: a finding, as for an .ipynb


@pytest.mark.kernel
def test_markdown_notebook_in_a_pipeline(tmp_path: Path, runs_dir: Path) -> None:
    (tmp_path / "step.md").write_text(MARKDOWN, encoding="utf-8")
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(
        "name: p\nsteps:\n  one:\n    notebook: step.md\n    params: {alpha: 2}\n    show: [score]\n"
    )
    assert main(["pipeline", "run", str(pipeline), "--runs-dir", str(runs_dir)]) == 0
    (folder,) = [p for p in runs_dir.iterdir() if (p / "run.json").exists()]
    assert json.loads((folder / "run.json").read_text())["scraps"] == {"score": 6}


def test_strip_leaves_text_notebooks_alone(py_nb: Path) -> None:
    before = py_nb.read_bytes()
    main(["strip", str(py_nb)])
    assert py_nb.read_bytes() == before


def test_unreadable_text_notebook_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "latin.py"
    bad.write_bytes(b"# %%\nx = '\xe9'\n")
    assert main(["inspect", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "latin.py: not a notebook: the file is not UTF-8 text." in err
    assert "Traceback" not in err
