"""Gate steps: rules over upstream scraps, promotion with approval human / auto / none."""

from __future__ import annotations

import json
import re
import shlex
import textwrap
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.pipeline import rules
from mlops_nb.registry import api
from tests import nbbuild as b

UPSTREAM = "upstream: dict | None = None"
SCRAPS: dict[str, dict[str, object]] = {
    "shadow": {"delta_f1": 0.02, "has_champion": False, "name": "rf", "n": 3, "none": None},
    "monitor": {"drift_detected": False},
}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("shadow.delta_f1 > 0.01 and not monitor.drift_detected", True),
        ("not shadow.has_champion or shadow.missing > 0", True),  # short-circuit guards
        ("shadow.has_champion and shadow.missing > 0", False),
        ("0 < shadow.delta_f1 * 100 <= 2", True),
        ("shadow.n - 1 == 2 and -shadow.delta_f1 < 0", True),
        ("shadow.name in ['rf', 'gb'] and shadow.name != 'logreg'", True),
        ("shadow.none == None", True),
        ("shadow.delta_f1 / 2 >= 0.02", False),
    ],
)
def test_rules_evaluate(rule: str, expected: bool) -> None:
    assert rules.evaluate(rule, SCRAPS) is expected


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("__import__('os').system('touch pwned')", "Call is not allowed"),
        ("shadow.delta_f1.__class__ == 1", "write scraps as STEP.SCRAP"),
        ("shadow.n ** 999999999 > 1", "operator '**' is not allowed"),
        ("shadow['n'] > 1", "Subscript is not allowed"),
        ("(lambda: 1)() == 1", "not allowed"),
        ("[x for x in (1, 2)] == [1, 2]", "ListComp is not allowed"),
        ("open == 1", "'open' alone is not a value"),
        ("shadow.n if True else 0", "IfExp is not allowed"),
        ("shadow.n > ", "invalid syntax"),
        ("'a' * 10**9 == 'a'", "not allowed"),
        ("'a' * 1000 == 'a'", "arithmetic needs numbers"),
        ("shadow.none > 1", "cannot compare None with 1"),
        ("shadow.missing > 1", "step 'shadow' glued no 'missing' (it glued: delta_f1"),
        ("evaluate.f1 > 1", "'evaluate' is not an upstream step"),
        ("shadow.n", "gives 3, not True/False"),
        ("shadow.n and True", "3 is not True/False"),
        ("shadow.n / 0 > 1", "division by zero"),
        ("1 > 0 and " * 200 + "True", "at most 1000 characters"),
        ("", "non-empty expression"),
    ],
)
def test_rules_refuse_programs_and_bad_values(rule: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(rules.RuleError, match=None) as caught:
        rules.evaluate(rule, SCRAPS)
    assert message in caught.value.message
    assert not Path("pwned").exists()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    b.write(
        proj / "train.ipynb",
        b.params(f"quality: float = 0.5\noutput_dir: str = '.'\n{UPSTREAM}"),
        b.code(
            "import scrapbook as sb\nfrom pathlib import Path\n"
            "Path(output_dir, 'model.joblib').write_text(str(quality))\n"
            "sb.glue('score', quality)"
        ),
    )
    b.write(
        proj / "serve.ipynb",
        b.params(f"model_dir: str = ''\noutput_dir: str = '.'\n{UPSTREAM}"),
        b.code(
            "import scrapbook as sb\nfrom pathlib import Path\n"
            "sb.glue('served', Path(model_dir, 'model.joblib').read_text() if model_dir else '')"
        ),
    )
    return proj


def human_gated(proj: Path, tmp_path: Path) -> tuple[Path, Path, list[str], list[str]]:
    """The gated pipeline (quality 0.9, a human approves) in ``proj`` with its store under
    ``tmp_path``: the store, the pipeline file, the command that runs it and ``--runs-dir``."""
    runs = tmp_path / "runs"
    pf = _pipeline(proj, quality=0.9, approval="human")
    return (
        runs,
        pf,
        ["pipeline", "run", str(pf), "--runs-dir", str(runs)],
        ["--runs-dir", str(runs)],
    )


def _pipeline(
    proj: Path, *, quality: float, approval: str, action: bool = True, report: bool = False
) -> Path:
    act = "action: {promote: m, run: train, alias: [champion, live]}" if action else ""
    text = f"""\
        name: gated
        steps:
          train:
            notebook: train.ipynb
            params: {{quality: {quality}}}
          gate:
            upstream: [train]
            gate:
              rule: "train.score > 0.8"
              {act}
              approval: {approval}
          serve:
            notebook: serve.ipynb
            upstream: [gate]
            params: {{model_dir: "registry:m@live?"}}
        """
    text = textwrap.dedent(text)
    if report:  # a report step after serve
        text += "  report:\n    upstream: [serve]\n    report: {}\n"
    path = proj / "pipeline.yaml"
    path.write_text(text)
    return path


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.mark.kernel
def test_human_approval_leaves_a_pending_promotion_that_approve_applies(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    pf = _pipeline(project, quality=0.9, approval="human")
    code, out, err = _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))
    assert code == 0, out + err
    assert "pending approval: m v1 -> champion, live" in out
    doc = api.load(runs, "m")
    assert doc["aliases"] == {} and doc["pending"][0]["requested_by"] == "pipeline gated step gate"
    # human in the loop: the steps downstream wait for the approval, the pipeline does not fail
    # the hints name this store and this file (not ./runs, notebooks/pipeline.yaml): pasted as
    # printed, they act on this pipeline
    approve = f"mlops-nb approve m --runs-dir {runs}"
    assert f"serve  waiting   pending approval: {approve}\n" in out
    hint = re.search(
        r"waiting for approval: `([^`]+)` \(or reject\), then `([^`]+)` runs serve", out
    )
    assert hint and hint[1] == approve, out
    assert shlex.split(hint[2]) == ["mlops-nb", "pipeline", "run", str(pf), "--runs-dir", str(runs)]
    assert not list(runs.glob("*-serve"))
    code, out, _ = _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))
    assert code == 0 and "gate   skipped" in out and "serve  waiting" in out  # still pending
    code, out, _ = _main(capsys, "pipeline", "status", str(pf), "--runs-dir", str(runs))
    assert (
        f"pending approval (gate): m v1 -> champion, live; `{approve}` or `mlops-nb reject m" in out
    )
    assert f"serve  stale  (never run)  -> waiting: pending approval: {approve}\n" in out
    gate_dir = next((runs / "pipelines" / "gated" / "gates").iterdir())
    decision = json.loads((gate_dir / "gate.json").read_text())
    assert decision["passed"] is True and decision["values"] == {"train.score": 0.9}
    record = min((runs / "pipelines" / "gated" / "runs").glob("*.json"))  # the first run
    steps = json.loads(record.read_text())["steps"]
    assert steps["gate"]["detail"] == "pending approval: m v1 -> champion, live"
    assert steps["gate"]["run_id"] == decision["id"] == gate_dir.name

    assert _main(capsys, *shlex.split(approve)[1:])[0] == 0  # the command as printed
    assert api.load(runs, "m")["aliases"] == {"champion": 1, "live": 1}
    code, out, _ = _main(capsys, "pipeline", "status", str(pf), "--runs-dir", str(runs))
    assert "pending approval" not in out
    assert "serve  stale  (never run)" in out
    code, out, _ = _main(capsys, *shlex.split(hint[2])[1:])
    assert code == 0 and "served=0.9" in out and "gate   skipped" in out
    assert "promoted m v1 -> champion, live (approved)" in out and "pending" not in out
    code, out, _ = _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))
    assert code == 0 and "3 skipped" in out and "(approved)" in out
    code, _, err = _main(capsys, "approve", "m", "--runs-dir", str(runs))
    assert code == 2 and "no pending promotion" in err


@pytest.mark.kernel
def test_the_report_step_shows_what_the_gate_did_and_what_waits(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pf = _pipeline(project, quality=0.9, approval="human", report=True)
    code, out, err = _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(tmp_path / "r"))
    assert code == 0 and "report  ran" in out, out + err
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    boxes = dict(
        re.findall(
            r'<b>(\w+)</b><span class="badge [\w ]+">[\w ]+</span>'
            r'<span class="badge">([\w ]+)</span>',
            page,
        )
    )
    assert boxes == {"train": "ran", "gate": "ran", "serve": "waiting"}, boxes
    assert "pending approval: mlops-nb approve m" in page


@pytest.mark.kernel
def test_a_rejected_promotion_holds_the_steps_downstream(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    pf = _pipeline(project, quality=0.9, approval="human")
    assert _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))[0] == 0
    assert _main(capsys, "reject", "m", "--runs-dir", str(runs))[0] == 0
    code, out, _ = _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))
    why = (
        "gate gate: the promotion of m v1 -> champion, live was rejected (champion is not set, "
        f"live is not set); to go on, promote it by hand (`mlops-nb promote m v1 --alias champion "
        f"--alias live --runs-dir {runs}`) or run the gate again (`"
        + shlex.join(["mlops-nb", "pipeline", "run", "--force", "gate", str(pf)])
        + f" --runs-dir {runs}`)"
    )
    assert code == 0 and f"serve  held      {why}" in out
    assert "waiting for approval" not in out and not list(runs.glob("*-serve"))
    code, out, _ = _main(capsys, "pipeline", "status", str(pf), "--runs-dir", str(runs), "--json")
    serve = next(s for s in json.loads(out) if s["step"] == "serve")
    assert serve["held"] == {"action": "held", "why": why}


@pytest.mark.kernel
@pytest.mark.parametrize(
    ("quality", "approval", "action", "decision", "aliases"),
    [
        (0.9, "auto", True, "promoted m v1 -> champion, live", {"champion": 1, "live": 1}),
        (0.5, "auto", True, "not promoted (rule is false)", None),
        (0.9, "none", True, "report only (human inspection)", None),
        (0.9, "auto", False, "report only (human inspection)", None),
    ],
    ids=["auto", "rule-false", "approval-none", "no-action"],
)
def test_automation_degrees(
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    quality: float,
    approval: str,
    action: bool,
    decision: str,
    aliases: dict[str, int] | None,
) -> None:
    runs = tmp_path / "runs"
    pf = _pipeline(project, quality=quality, approval=approval, action=action)
    code, out, err = _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))
    assert code == 0, out + err
    assert decision in out
    if aliases is None:
        assert api.pending(runs) == [] and not (runs / "registry" / "m.json").exists()
    else:
        assert api.load(runs, "m")["aliases"] == aliases
    if quality < 0.8:  # a closed gate: the steps downstream do not run, and nothing failed
        assert "serve  held      gate gate is closed: not promoted (rule is false)" in out
        assert not list(runs.glob("*-serve"))
    else:
        assert "serve  ran" in out and f"served={quality if aliases else ''}" in out
        # lineage goes through the gate's decision (its folder holds gate.json, not run.json)
        serve = next(runs.glob("*-serve")).name
        code, out, _ = _main(capsys, "show", serve, "--runs-dir", str(runs), "--lineage")
        assert code == 0 and "missing" not in out
        assert f"[gate]  gate: train.score > 0.8  -> {decision}" in out
    code, out, _ = _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))
    # up to date: skipped; a closed gate stays closed (serve held) until it runs again
    assert code == 0 and ("2 skipped, 1 held" if quality < 0.8 else "3 skipped") in out


@pytest.mark.kernel
def test_a_rule_on_a_missing_scrap_fails_the_gate_and_blocks_downstream(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    pf = _pipeline(project, quality=0.9, approval="auto")
    pf.write_text(pf.read_text().replace("train.score > 0.8", "train.f1 > 0.8"))
    code, out, _ = _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))
    assert code == 1
    assert "step 'train' glued no 'f1' (it glued: score)" in out
    assert "serve  blocked" in out
    assert not (runs / "registry" / "m.json").exists()
    assert not list((runs / "pipelines" / "gated").glob("gates/*"))
    code, out, _ = _main(capsys, "pipeline", "status", str(pf), "--runs-dir", str(runs))
    assert "gate   stale  (last run failed)" in out and "never run" not in out.split("serve")[0]


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("{rule: 'train.score > 0.8', approvl: human}", "unknown gate key 'approvl'"),
        ("{rule: 'other.score > 0.8'}", "reads 'other', which is not an upstream step"),
        ("{rule: 'train.score > 0.8', approval: maybe}", "approval must be one of human"),
        ("{rule: 'import os'}", "invalid syntax"),
        ("{rule: 'train.score > 0.8', action: {promote: m, run: nope, alias: x}}", "action run"),
        (
            "{rule: 'train.score > 0.8', action: {promote: m, run: train, alias: X}}",
            "invalid alias",
        ),
        (
            "{rule: 'train.score > 0.8', action: {promote: ../m, run: train, alias: x}}",
            "model name",
        ),
        ("{rule: 'train.score > 0.8', action: promote m}", "action is {promote: MODEL"),
        ("just text", "'gate' is a mapping"),
    ],
)
def test_invalid_gates_are_refused_before_anything_runs(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], gate: str, message: str
) -> None:
    pf = project / "pipeline.yaml"
    pf.write_text(
        "steps:\n  train: {notebook: train.ipynb}\n"
        f"  g:\n    upstream: [train]\n    gate: {gate}\n"
    )
    runs = tmp_path / "runs"
    code, _, err = _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))
    assert code == 2 and message in err and "Traceback" not in err
    assert not runs.exists()


@pytest.mark.kernel
def test_a_gate_that_promotes_what_is_already_there_records_nothing(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    pf = _pipeline(project, quality=0.9, approval="auto")
    assert _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))[0] == 0
    history = api.load(runs, "m")["history"]
    code, out, _ = _main(
        capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs), "--force", "gate"
    )
    assert code == 0 and "unchanged: m v1 -> champion, live already" in out
    assert api.load(runs, "m")["history"] == history


@pytest.mark.kernel
def test_a_request_for_where_the_gate_put_the_aliases_leaves_the_pipeline_up_to_date(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """review4 item 7: with another request for live waiting, asking for live's own version
    recorded a `v1 -> v1` request; approved, the aliases' last move was a hand-made one, not the
    gate's, and the steps reading them went stale. Now it asks for nothing and names the other."""
    runs = tmp_path / "runs"
    pf = _pipeline(project, quality=0.9, approval="human")
    assert _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))[0] == 0
    assert _main(capsys, "approve", "m", "--runs-dir", str(runs))[0] == 0
    code, out, _ = _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))
    assert code == 0 and "serve  ran" in out
    other = ["run", str(project / "train.ipynb"), "-p", "quality", "0.7", "--name", "other"]
    assert _main(capsys, *other, "--runs-dir", str(runs))[0] == 0
    ask = ["promote", "m", "other", "--alias", "live", "--require-approval"]
    assert _main(capsys, *ask, "--runs-dir", str(runs))[0] == 0  # v2 -> live waits
    registry = (runs / "registry" / "m.json").read_bytes()
    argv = ["promote", "m", "v1", "--alias", "champion", "--alias", "live", "--require-approval"]
    code, out, _ = _main(capsys, *argv, "--runs-dir", str(runs))
    reject = f"mlops-nb reject m --alias live --runs-dir {runs}"
    assert code == 0 and out == (
        "m: champion, live already at v1; nothing to request (still pending: v2 -> live; "
        f"drop it with `{reject}`)\n"
    )
    assert (runs / "registry" / "m.json").read_bytes() == registry
    code, _, err = _main(capsys, "approve", "m", "--alias", "champion", "--runs-dir", str(runs))
    assert code == 2 and "no pending promotion for alias 'champion'" in err
    assert _main(capsys, *shlex.split(reject)[1:])[0] == 0
    code, out, _ = _main(capsys, "pipeline", "status", str(pf), "--runs-dir", str(runs))
    assert code == 0 and "stale" not in out and "pending" not in out, out
    code, out, _ = _main(capsys, "pipeline", "run", str(pf), "--runs-dir", str(runs))
    assert code == 0 and "3 skipped" in out, out
