"""`mlops-nb init` on a project that exists: it says what it kept, overwrites nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.main import main


def test_init_twice_keeps_every_file_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "proj"
    assert main(["init", str(project)]) == 0
    first = capsys.readouterr().out.splitlines()
    created = [ln.removeprefix("created ") for ln in first if ln.startswith("created ")]
    assert created and not [ln for ln in first if ln.startswith("kept")]
    assert first[-1] == (
        f"next: cd {project} && git init && pre-commit install && mlops-nb run notebooks/eda.ipynb"
    )
    eda = project / "notebooks" / "eda.ipynb"
    eda.write_text(eda.read_text(encoding="utf-8").replace("eda", "my own eda"), encoding="utf-8")
    mine = eda.read_bytes()
    assert main(["init", str(project)]) == 0
    again = capsys.readouterr().out.splitlines()
    assert f"kept    {eda} (exists)" in again
    assert eda.read_bytes() == mine
    notebooks = [p for p in created if p.endswith(".ipynb")]
    assert all(f"kept    {p} (exists)" in again for p in notebooks)
