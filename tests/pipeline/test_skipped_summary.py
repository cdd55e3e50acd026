"""A step that is up to date (``skipped``) shows what its records say, as the invocation that ran
it showed it: a grid step its selected values and ``best of N runs``, a gate its decision."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_nb.main import main
from tests import nbbuild as b

UPSTREAM = "upstream: dict | None = None"
PIPELINE = """\
name: recalled
steps:
  train:
    notebook: train.ipynb
    grid: {quality: [0.7, 0.9]}
    select: {metric: score, mode: max}
  gate:
    upstream: [train]
    gate:
      rule: "train.score > 0.8"
      action: {promote: m, run: train, alias: live}
      approval: auto
  serve:
    notebook: serve.ipynb
    upstream: [gate]
    params: {model_dir: "registry:m@live"}
"""


def _steps(out: str) -> dict[str, str]:
    """{step: its summary line without the action word and the reasons it ran}."""
    lines = {}
    for line in out.splitlines():
        m = re.match(r"  (\w+)\s+(ran|skipped)\s+(.*?)(  \[.*\])?$", line)
        if m:
            lines[m[1]] = m[3]
    return lines


@pytest.mark.kernel
def test_skipped_steps_show_what_they_showed_when_they_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b.write(
        tmp_path / "train.ipynb",
        b.params(f"quality: float = 0.5\noutput_dir: str = '.'\n{UPSTREAM}"),
        b.code(
            "import scrapbook as sb\nfrom pathlib import Path\n"
            "Path(output_dir, 'model.joblib').write_text(str(quality))\nsb.glue('score', quality)"
        ),
    )
    b.write(
        tmp_path / "serve.ipynb",
        b.params(f"model_dir: str = ''\n{UPSTREAM}"),
        b.code("import scrapbook as sb\nsb.glue('served', bool(model_dir))"),
    )
    pf = tmp_path / "pipeline.yaml"
    pf.write_text(PIPELINE)
    argv = ["pipeline", "run", str(pf), "--runs-dir", str(tmp_path / "runs")]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0
    again = capsys.readouterr().out
    assert "3 skipped" in again
    ran, skipped = _steps(first), _steps(again)
    assert "quality=0.9  score=0.9  best of 2 runs by score (max)" in ran["train"]
    assert "passed=True  promoted m v1 -> live" in ran["gate"]
    assert skipped == ran, again
