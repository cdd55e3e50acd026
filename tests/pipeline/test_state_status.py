"""review7 M7: a state.json step whose ``status`` is not one a step ends in ('weird',
'running') was accepted; the pipeline re-ran the step and the gate after it, which made a new
registry version and a new promotion request. It is refused like other damage: one line, exit 2,
nothing run, the registry untouched. Real pipeline, real kernels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.pipeline.state import StateStore
from tests.pipeline.test_gate import _main, _pipeline, human_gated, project  # noqa: F401  (fixture)

pytestmark = [pytest.mark.kernel]


def test_an_unknown_step_status_is_refused_before_a_gate_promotes_again(
    project: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs, _, run, _ = human_gated(project, tmp_path)
    assert _main(capsys, *run)[0] == 0
    assert _main(capsys, "approve", "m", "--runs-dir", str(runs))[0] == 0
    assert _main(capsys, *run)[0] == 0  # serve ran with v1
    model = runs / "registry" / "m.json"
    registry = model.read_text()
    state = StateStore(runs, "gated").file
    good = json.loads(state.read_text())
    for status in ("weird", "running", "", "Ok"):
        data = json.loads(json.dumps(good))
        data["steps"]["train"]["status"] = status
        state.write_text(json.dumps(data))
        for argv in (run, ["pipeline", "status", *run[2:]]):
            code, out, err = _main(capsys, *argv)
            assert (code, err.count("\n")) == (2, 1), out + err
            assert err.startswith(f"mlops-nb: error: damaged pipeline state {state}: step 'train'")
            assert repr(status) in err or "'status' is empty" in err
        assert model.read_text() == registry  # no new version, no new request
    for status in ("ok", "failed", "timeout", "interrupted", "lost"):  # each is read
        data = json.loads(json.dumps(good))
        data["steps"]["serve"]["status"] = status
        state.write_text(json.dumps(data))
        code, out, err = _main(capsys, "pipeline", "status", *run[2:])
        assert code == 0, err
    state.write_text(json.dumps(good))
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "train  skipped" in out and model.read_text() == registry
