"""review7 M3: a skipped gate's line (also the gate's box in the report's headline) said
``promoted pm v1 -> champion, live (approved)`` when only champion was approved and live was
rejected (the first history entry naming the request decided). It now says per alias what
happened. Real pipeline runs, real kernels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipeline.test_gate import _main, _pipeline, human_gated, project  # noqa: F401  (fixture)

pytestmark = [pytest.mark.kernel]


def _gate_line(capsys: pytest.CaptureFixture[str], run: list[str]) -> str:
    code, out, err = _main(capsys, *run)
    assert code == 0, err
    return next(line for line in out.splitlines() if line.startswith("  gate "))


def test_a_gates_line_says_what_became_of_each_alias(
    project: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs, _pf, run, reg = human_gated(project, tmp_path)
    assert "pending approval: m v1 -> champion, live" in _gate_line(capsys, run)
    assert _main(capsys, "approve", "m", "--alias", "champion", *reg)[0] == 0
    line = _gate_line(capsys, run)
    assert line.endswith("m v1: champion approved, live pending approval"), line
    assert _main(capsys, "reject", "m", "--alias", "live", *reg)[0] == 0
    line = _gate_line(capsys, run)
    assert line.endswith("m v1: champion approved, live rejected"), line
    assert "(approved)" not in line
    record = json.loads(
        sorted((runs / "pipelines" / "gated" / "runs").glob("*.json"))[-1].read_text()
    )
    gate = record["steps"]["gate"]
    assert gate["detail"] == "m v1: champion approved, live rejected"  # the report's headline
    assert _main(capsys, "promote", "m", "@champion", "--alias", "live", *reg)[0] == 0
    line = _gate_line(capsys, run)
    assert line.endswith("m v1: champion approved, live promoted by hand"), line


def test_alike_outcomes_keep_one_phrase(
    project: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _runs, _pf, run, reg = human_gated(project, tmp_path)
    assert _main(capsys, *run)[0] == 0
    assert _main(capsys, "approve", "m", "--alias", "live", *reg)[0] == 0
    assert _main(capsys, "approve", "m", "--alias", "champion", *reg)[0] == 0
    line = _gate_line(capsys, run)
    assert line.endswith("promoted m v1 -> champion, live (approved)"), line
