"""review7 M2/M5 in pipelines: once a gate's request is settled by a human (approved, promoted by
hand after a rejection, or superseded by a direct promotion), later moves of its aliases do not
hold the steps after the gate again, and no hint moves an alias back without saying so. Real
pipeline runs, real kernels."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.registry import api
from tests.pipeline.test_gate import _main, _pipeline, human_gated, project  # noqa: F401  (fixture)
from tests.pipeline.test_gate_by_hand import _serve

pytestmark = [pytest.mark.kernel]


def _train_by_hand(capsys: pytest.CaptureFixture[str], proj: Path, runs: Path) -> None:
    argv = ["run", str(proj / "train.ipynb"), "-p", "quality", "0.97", "--name", "t99"]
    assert _main(capsys, *argv, "--runs-dir", str(runs))[0] == 0


def test_a_gate_settled_by_hand_stays_open_when_the_alias_moves_on(
    project: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The review's sequence: champion approved, live rejected, live promoted by hand to what
    the gate asked; then a newer model goes live. serve ran on v1 and then on v2, never held."""
    runs, pf, run, reg = human_gated(project, tmp_path)
    assert _main(capsys, *run)[0] == 0
    assert _main(capsys, "approve", "m", "--alias", "champion", *reg)[0] == 0
    assert _main(capsys, "reject", "m", "--alias", "live", *reg)[0] == 0
    assert _main(capsys, "promote", "m", "@champion", "--alias", "live", *reg)[0] == 0
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "serve  ran" in out and "served=0.9" in out, out
    _train_by_hand(capsys, project, runs)
    assert _main(capsys, "promote", "m", "t99", "--alias", "live", *reg)[0] == 0
    assert "held" not in _serve(capsys, pf, runs)
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "serve  ran" in out and "served=0.97" in out, out
    assert "held" not in out and "promote m v1" not in out


def test_a_request_superseded_by_a_direct_promotion_lets_the_steps_after_the_gate_run(
    project: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs, pf, run, reg = human_gated(project, tmp_path)
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "serve  waiting" in out
    _train_by_hand(capsys, project, runs)
    code, out, _ = _main(
        capsys, "promote", "m", "t99", "--alias", "champion", "--alias", "live", *reg
    )
    assert code == 0 and "settles (supersedes) pending request" in out
    assert api.load(runs, "m")["pending"] == []
    assert "held" not in _serve(capsys, pf, runs)
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "serve  ran" in out and "served=0.97" in out, out
    code, _, err = _main(capsys, "approve", "m", *reg)  # nothing left to undo it with
    assert code == 2 and "has no pending promotion" in err


def test_the_held_hint_says_when_promoting_by_hand_moves_an_alias_back(
    project: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs, pf, run, reg = human_gated(project, tmp_path)
    assert _main(capsys, *run)[0] == 0
    assert _main(capsys, "reject", "m", *reg)[0] == 0
    _train_by_hand(capsys, project, runs)
    assert _main(capsys, "promote", "m", "t99", "--alias", "live", *reg)[0] == 0
    held = _serve(capsys, pf, runs)["held"]
    assert isinstance(held, dict) and held["action"] == "held"
    why = str(held["why"])
    assert "(champion is not set, live is at v2)" in why
    assert "--alias champion --alias live" in why
    assert "; it moves live from v2 back to v1)" in why, why
