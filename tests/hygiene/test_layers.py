"""Hygiene stays light: no papermill, pandas or scikit-learn, even after linting and stripping."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests import nbbuild as b

HEAVY = ("papermill", "pandas", "sklearn", "scrapbook", "matplotlib", "dask")


def test_lint_strip_and_hook_import_nothing_heavy(tmp_path: Path) -> None:
    nb = b.write(tmp_path / "x.ipynb", b.params("a = 1", count=1), b.code("print(a)", count=2))
    code = (
        "import sys\n"
        "from mlops_nb.commands.hook import hook_main, lint_main, strip_main\n"
        f"lint_main([{str(nb)!r}]); strip_main(['--check', {str(nb)!r}])\n"
        f"hook_main([{str(nb)!r}])\n"
        "import mlops_nb.guard\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_command_modules_import_only_argparse_at_module_level() -> None:
    code = (
        "import sys\n"
        "import mlops_nb.commands.lint, mlops_nb.commands.strip, mlops_nb.commands.hook\n"
        "print(sorted(m for m in sys.modules if m.startswith('mlops_nb.') and "
        "not m.startswith('mlops_nb.commands')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_core_is_light_and_running_notebooks_is_the_run_extra() -> None:
    """pre-commit installs the core into every hook environment: it must stay the hygiene part."""
    import re
    import tomllib

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))[
        "project"
    ]

    def names(reqs: list[str]) -> set[str]:
        return {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower() for r in reqs}

    # jupytext: lint (and strip's refusal) read .py/.md notebooks; it adds ~3 MB and no heavy stack
    assert names(project["dependencies"]) == {"nbformat", "nbstripout", "jupytext"}
    extras = project["optional-dependencies"]
    assert {"papermill", "scrapbook", "ipykernel", "pandas", "pyyaml"} <= names(extras["run"])
    # each of them runs notebooks (the tracking extras: `mlops-nb run --track mlflow`)
    for extra in ("ml", "dask", "dev", "mlflow", "tensorboard", "wandb"):
        assert any(re.fullmatch(r"mlops-nb\[.*\brun\b.*\]", r) for r in extras[extra]), extra
