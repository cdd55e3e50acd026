"""The CLI's process skips optional imports it does not need; a library user's process does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests import nbbuild as b

# A stand-in for rfc3987_syntax (the grammar jsonschema builds at import where JupyterLab is
# installed) that leaves a mark when imported.
FAKE = (
    "import os\nopen(os.environ['MARK'], 'w').close()\ndef is_valid_syntax(*a, **k): return True\n"
)


@pytest.mark.parametrize(
    ("code", "imported"),
    [
        ("from mlops_nb.main import main\nmain(['inspect', NB])\nimport papermill", False),
        ("import mlops_nb.execution.papermill_adapter\nimport papermill", True),
    ],
    ids=["cli", "library"],
)
def test_rfc3987_grammar_is_not_built_by_the_cli(tmp_path: Path, code: str, imported: bool) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "rfc3987_syntax.py").write_text(FAKE)
    nb = b.write(tmp_path / "nb.ipynb", b.params("x = 1"), b.code("y = x"))
    mark = tmp_path / "imported"
    env = {"PYTHONPATH": str(site), "MARK": str(mark), "PATH": "/usr/bin:/bin"}
    prog = f"NB = {str(nb)!r}\n{code}\nimport jsonschema._format\n"
    subprocess.run([sys.executable, "-c", prog], env=env, check=True, capture_output=True)
    assert mark.exists() is imported
