"""Exit codes survive a reader that goes away (`mlops-nb lint . | head -1` under `pipefail`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests import nbbuild as b


def test_a_closed_pipe_keeps_the_exit_code(tmp_path: Path) -> None:
    # counts 1, 3, 2: lint findings, so exit 1 however early the reader stops reading
    cells = [b.code(f"x{i} = {i}") for i in range(300)]
    for i, cell in enumerate(cells):
        cell["execution_count"] = [1, 3, 2][i % 3] + 3 * (i // 3)
    nb = b.write(tmp_path / "bad.ipynb", *cells)
    script = (
        f"{sys.executable} -m mlops_nb lint {nb} | head -c 1 >/dev/null; echo $" + "{PIPESTATUS[0]}"
    )
    for _ in range(2):
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "1", done.stderr
        assert "Traceback" not in done.stderr
