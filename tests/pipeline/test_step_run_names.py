"""A step's runs are named after the step, so a step name a run reference would read as something
else (``latest``: the newest run) or as nothing is refused when the pipeline is read: exit 2,
nothing run (it was refused only when the step ran, after the steps before it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.errors import ConfigError
from mlops_nb.main import main
from mlops_nb.pipeline.spec import load
from tests import nbbuild as b


@pytest.mark.parametrize(
    ("step", "why"),
    [("latest", "is reserved"), ("-1", "is reserved"), ("...", "has no letter or digit")],
)
def test_a_step_name_no_run_could_carry_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], step: str, why: str
) -> None:
    b.write(tmp_path / "nb.ipynb", b.params("x = 1"), b.code("y = x"))
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(
        f"name: p\nsteps:\n  first: {{notebook: nb.ipynb}}\n"
        f"  '{step}': {{notebook: nb.ipynb, upstream: [first]}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=f"step '{step}': the run name '{step}' {why}"):
        load(pipeline)
    runs = tmp_path / "runs"
    assert main(["pipeline", "run", str(pipeline), "--runs-dir", str(runs)]) == 2
    assert f"step '{step}'" in capsys.readouterr().err
    assert not list(runs.glob("*/run.json"))  # not even the first step ran
