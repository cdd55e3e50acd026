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
