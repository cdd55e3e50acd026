"""Jupytext text notebooks (``.py``, ``.md``) have no outputs: ``strip`` leaves them alone and
the hook lints them without stripping (the README's promise), instead of calling them invalid."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.main import main

PY = '# %% tags=["parameters"]\nx = 1\n# %%\nprint(x)\n'
MD = '# Title\n\n```python tags=["parameters"]\nx = 1\n```\n'


@pytest.mark.parametrize(("name", "text"), [("t.py", PY), ("t.md", MD)])
@pytest.mark.parametrize("command", ["strip", "hook"])
def test_a_text_notebook_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert main([command, str(path)]) == 0
    out, err = capsys.readouterr()
    assert "not a valid notebook" not in out + err
    assert path.read_text(encoding="utf-8") == text  # byte for byte


def test_the_hook_still_lints_a_text_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.py"
    # no kernelspec metadata: the same finding `mlops-nb lint t.py` reports
    path.write_text(PY, encoding="utf-8")
    lint_code = main(["lint", str(path)])
    lint_out = capsys.readouterr().out
    hook_code = main(["hook", str(path)])
    hook_out = capsys.readouterr().out
    assert hook_code == lint_code
    assert [line.split(" ", 1)[-1] for line in hook_out.splitlines() if "NB" in line] == [
        line.split(" ", 1)[-1] for line in lint_out.splitlines() if "NB" in line
    ]
