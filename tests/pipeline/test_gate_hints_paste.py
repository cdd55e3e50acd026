"""review7 L2: the damaged-gate line printed the placeholder ``--force GATE`` and no pipeline
file, and the held line ``pipeline run --force gate`` lacked ``mlops-nb`` and the file: pasted,
they failed ("no pipeline file notebooks/pipeline.yaml", "no step 'GATE'"). Every hint of a gate
now pastes as printed. Real pipeline runs, real kernels, in the project folder with the default
store, so the commands carry what they need and nothing else."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.pipeline.test_gate import _main, _pipeline, project  # noqa: F401  (fixture)

pytestmark = [pytest.mark.kernel]


def _pasted(capsys: pytest.CaptureFixture[str], text: str, hint: str) -> tuple[int, str]:
    """Run the command that ``text`` prints after ``hint`` (between backquotes), as pasted."""
    found = re.search(re.escape(hint) + r" \(`([^`]+)`\)", text)
    assert found, text
    words = shlex.split(found.group(1))
    assert words[0] == "mlops-nb"
    code, out, err = _main(capsys, *words[1:])
    return code, out + err


def test_the_gate_hints_paste_as_printed(
    project: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.delenv("MLOPS_NB_RUNS_DIR", raising=False)
    _pipeline(project, quality=0.9, approval="human")
    run = ["pipeline", "run", "pipeline.yaml"]
    assert _main(capsys, *run)[0] == 0
    record = next(Path("runs/pipelines/gated/gates").iterdir()) / "gate.json"
    record.write_text("{}")
    code, _, err = _main(capsys, *run)
    assert code == 2
    assert "(`mlops-nb pipeline run --force gate pipeline.yaml`)" in err, err
    code, out = _pasted(capsys, err, "run the gate again")
    assert code == 0 and "gate   ran" in out and "serve  waiting" in out, out

    assert _main(capsys, "reject", "m")[0] == 0
    code, out, _ = _main(capsys, "pipeline", "status", "pipeline.yaml", "--json")
    held = next(s for s in json.loads(out) if s["step"] == "serve")["held"]
    assert held["action"] == "held", held
    code, out = _pasted(capsys, held["why"], "run the gate again")
    assert code == 0 and "gate   ran" in out and "serve  waiting" in out, out
    assert _main(capsys, "reject", "m")[0] == 0
    code, out, _ = _main(capsys, *run)
    assert "serve  held" in out
    code, out = _pasted(capsys, out, "promote it by hand")
    assert code == 0 and "m: promote champion: none -> v1, live: none -> v1" in out, out
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "serve  ran" in out, out
