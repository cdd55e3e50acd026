"""The templates as files: parameters contract, hygiene, stripped, and copied into notebooks/."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.main import main
from mlops_nb.notebook.params import parse_notebook_params
from tests.templates._execute import ROOT, TEMPLATES

MINE = ["eda", "train", "evaluate", "monitor"]
REQUIRED = {
    "eda": {"data", "target", "seed", "output_dir", "upstream"},
    "train": {"data", "target", "seed", "output_dir", "upstream", "model", "class_weight"},
    "evaluate": {"data", "target", "seed", "output_dir", "upstream", "model", "threshold"},
    "monitor": {"reference", "current", "target", "seed", "output_dir", "upstream", "model"},
}


def _nb(name: str, folder: Path = TEMPLATES) -> dict[str, Any]:
    nb: dict[str, Any] = json.loads((folder / f"{name}.ipynb").read_text(encoding="utf-8"))
    return nb


def _src(cell: dict[str, Any]) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("name", MINE)
def test_parameters_cell_contract(name: str) -> None:
    nb = _nb(name)
    params = parse_notebook_params(nb)
    first_code = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
    assert params.cell_index == first_code
    assert params.non_literal == ()
    assert REQUIRED[name] <= set(params.names)
    for spec in params.specs:
        assert spec.help, f"{name}: parameter {spec.name} has no # help comment"
        assert spec.literal_default
        assert str(spec.type) != "any", f"{name}: parameter {spec.name} is not annotated"
    defaults = params.defaults()
    assert defaults["output_dir"] == "." and defaults["upstream"] is None and defaults["seed"] == 0
    assert defaults.get("data", defaults.get("reference")) == "builtin:rare_events"
    assert defaults["target"] == "faulty"


@pytest.mark.parametrize("name", MINE)
def test_stripped_ids_little_code_and_glue(name: str) -> None:
    nb = _nb(name)
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 5)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "mlops-nb[ml]" in _src(nb["cells"][0]) and nb["cells"][0]["cell_type"] == "markdown"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for cell in nb["cells"]:
        assert cell["id"]
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None
        tree = ast.parse(_src(cell))
        assert not any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in ast.walk(tree))
        assert len([ln for ln in _src(cell).splitlines() if ln.strip()]) <= 15
    body = "\n".join(_src(c) for c in code)
    assert "from mlops_nb import ml" in body and "sb.glue(" in body


@pytest.mark.parametrize("name", MINE)
def test_worked_example_is_the_template(name: str) -> None:
    assert (ROOT / "notebooks" / f"{name}.ipynb").read_bytes() == (
        TEMPLATES / f"{name}.ipynb"
    ).read_bytes()


def test_templates_and_worked_example_pass_lint_and_strip_check() -> None:
    paths = [str(TEMPLATES / f"{n}.ipynb") for n in MINE]
    paths += [str(ROOT / "notebooks" / f"{n}.ipynb") for n in MINE]
    assert main(["lint", *paths]) == 0
    assert main(["strip", "--check", *paths]) == 0
