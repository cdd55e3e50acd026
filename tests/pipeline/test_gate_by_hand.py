"""review5 item 10: after a gate's request was rejected, a human promotes by hand the version the
gate asked for; the steps after the gate then run (the registry says what is deployed, as for an
MLflow user serving `models:/MODEL@ALIAS`). While the aliases are elsewhere, the held line says
where they point and how to go on. Real pipeline runs, real kernels."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.registry import api
from tests.pipeline.test_gate import _main, _pipeline, human_gated, project  # noqa: F401  (fixture)

pytestmark = [pytest.mark.kernel]


def _serve(capsys: pytest.CaptureFixture[str], pf: Path, runs: Path) -> dict[str, Any]:
    code, out, _ = _main(capsys, "pipeline", "status", str(pf), "--runs-dir", str(runs), "--json")
    assert code == 0
    return dict(next(s for s in json.loads(out) if s["step"] == "serve"))


def test_promoting_by_hand_what_a_rejected_gate_wanted_lets_the_steps_after_it_run(
    project: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs, _, run, _ = human_gated(project, tmp_path)
    assert _main(capsys, *run)[0] == 0  # v1 pending
    assert _main(capsys, "approve", "m", "--runs-dir", str(runs))[0] == 0
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "served=0.9" in out  # serve ran with v1
    pf = _pipeline(project, quality=0.95, approval="human")  # the review's "change train's seed"
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "pending approval: m v2 -> champion, live" in out
    assert _main(capsys, "reject", "m", "--runs-dir", str(runs))[0] == 0

    code, out, _ = _main(capsys, *run)
    held = _serve(capsys, pf, runs)["held"]
    assert isinstance(held, dict) and held["action"] == "held"
    why = str(held["why"])
    assert why.startswith(
        "gate gate: the promotion of m v2 -> champion, live was rejected (champion is at v1, "
        "live is at v1); to go on, promote it by hand (`mlops-nb promote m v2 --alias champion "
        "--alias live --runs-dir "
    )
    assert f"serve  held      {why}" in out
    by_hand = why.split("(`")[1].split("`)")[0]

    # only one of the two aliases moved by hand: still held, the line names the other one
    assert _main(capsys, "promote", "m", "v2", "--alias", "live", "--runs-dir", str(runs))[0] == 0
    held = _serve(capsys, pf, runs)["held"]
    assert isinstance(held, dict) and "(champion is at v1); to go on" in str(held["why"])
    assert "--alias champion --runs-dir" in str(held["why"]) and "--alias live" not in str(held)

    assert _main(capsys, *shlex.split(by_hand)[1:])[0] == 0  # the command as printed
    assert api.load(runs, "m")["aliases"] == {"champion": 2, "live": 2}
    serve = _serve(capsys, pf, runs)
    assert "held" not in serve and not serve["up_to_date"], serve
    assert any("model_dir changed" in r for r in serve["reasons"]), serve["reasons"]
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "serve  ran" in out and "served=0.95" in out, out
    assert "gate   skipped" in out
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "serve  skipped" in out  # and stays done


def test_a_request_approved_alias_by_alias_waits_until_every_alias_is_decided(
    project: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs, pf, run, _ = human_gated(project, tmp_path)
    assert _main(capsys, *run)[0] == 0
    assert _main(capsys, "approve", "m", "--alias", "live", "--runs-dir", str(runs))[0] == 0
    held = _serve(capsys, pf, runs)["held"]
    assert isinstance(held, dict) and held["action"] == "waiting"  # champion still pending
    code, out, _ = _main(capsys, "pipeline", "status", str(pf), "--runs-dir", str(runs))
    assert "pending approval (gate): m v1 -> champion;" in out
    assert _main(capsys, "reject", "m", "--alias", "champion", "--runs-dir", str(runs))[0] == 0
    held = _serve(capsys, pf, runs)["held"]
    assert isinstance(held, dict) and held["action"] == "held"
    assert "m v1 -> champion, live was rejected (champion is not set)" in str(held["why"])
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "serve  held" in out and "served" not in out


def _drop(*keys: str) -> Any:
    def edit(d: dict[str, Any]) -> None:
        inner = d
        for k in keys[:-1]:
            inner = inner[k]
        del inner[keys[-1]]

    return edit


def _put(value: Any, *keys: str) -> Any:
    def edit(d: dict[str, Any]) -> None:
        inner = d
        for k in keys[:-1]:
            inner = inner[k]
        inner[keys[-1]] = value

    return edit


# (what is done to the gate's real record, the start of the reason given)
DAMAGE: list[tuple[Any, str]] = [
    ("{not json", "not valid JSON (Expecting property name"),
    ("[1]", "not a JSON object"),
    ("{}", "it has no 'passed'"),  # review7 M4
    (_put("yes", "passed"), "'passed' is str, not bool"),
    (_drop("passed"), "it has no 'passed'"),
    (_drop("decision"), "it has no 'decision'"),
    (_put(None, "decision"), "'decision' is NoneType, not str"),
    (_drop("change"), "it has no 'change'"),
    (_put(None, "change"), "'change' is missing although the gate acted"),  # review7 M4
    (_put(5, "change"), "'change' is int, not dict"),
    (_put("requestt", "change", "action"), "'change.action' is 'requestt', not one of"),
    (_drop("change", "action"), "'change.action' is None, not one of"),
    (_put("live", "change", "aliases"), "'change.aliases' is not a list of aliases"),
    (_put([], "change", "aliases"), "'change.aliases' is not a list of aliases"),
    (_drop("change", "seq"), "'change.seq' is None, not a number"),
    (_put("2", "change", "to"), "'change.to' is '2', not a number"),
    (_put("live", "action", "alias"), "'action' has no model ('promote') or no list"),
    (_drop("action", "promote"), "'action' has no model ('promote') or no list"),
    (_put(None, "action"), "'change' is set although the gate did not act"),
    (_put("maybe", "approval"), "'approval' is 'maybe', not one of human, auto, none"),
    (_drop("approval"), "it has no 'approval'"),
]


def test_a_damaged_gate_record_is_refused_not_read_as_open(
    project: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The kind of review6 item 8 / review7 M4 for gate.json: read as "no decision", the steps
    after a gate whose promotion waits for a human ran (or a wrong type was a traceback). Each
    key a gate record must have, by its kind of decision, is checked."""
    runs, pf, run, _ = human_gated(project, tmp_path)
    assert _main(capsys, *run)[0] == 0
    record = next((runs / "pipelines" / "gated" / "gates").iterdir()) / "gate.json"
    good = record.read_text()
    for damage, why in DAMAGE:
        if isinstance(damage, str):
            text = damage
        else:
            data = json.loads(good)
            damage(data)
            text = json.dumps(data)
        record.write_text(text)
        for argv in (run, ["pipeline", "status", *run[2:]]):
            code, out, err = _main(capsys, *argv)
            assert (code, err.count("\n")) == (2, 1), (why, out + err)
            assert err.startswith(f"mlops-nb: error: damaged gate record {record}: {why}"), err
            again = shlex.join(["mlops-nb", "pipeline", "run", "--force", "gate", str(pf)])
            assert f"run the gate again (`{again} --runs-dir {runs}`)" in err
        assert not list(runs.glob("*-serve")) and record.read_text() == text
    record.write_text(good)
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "serve  waiting" in out  # the good record reads as before
    record.write_text("{}")
    code, out, _ = _main(capsys, *run, "--force", "gate")
    assert code == 0 and "serve  waiting" in out  # a new decision, a new request


def test_the_approve_hint_names_the_gates_aliases_when_other_requests_wait(
    project: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`approve m` alone asks which when several requests are pending: the waiting line names
    the gate's aliases, and pasted as printed it approves those only."""
    runs, _pf, run, _ = human_gated(project, tmp_path)
    assert _main(capsys, *run)[0] == 0
    by_human = ["promote", "m", "v1", "--alias", "blue", "--require-approval"]
    assert _main(capsys, *by_human, "--runs-dir", str(runs))[0] == 0
    code, out, _ = _main(capsys, *run)
    approve = f"mlops-nb approve m --alias champion --alias live --runs-dir {runs}"
    assert code == 0 and f"serve  waiting   pending approval: {approve}\n" in out
    assert f"waiting for approval: `{approve}` (or reject)" in out
    code, out, _ = _main(capsys, "pipeline", "status", *run[2:])
    reject = approve.replace("approve", "reject", 1)
    assert f"pending approval (gate): m v1 -> champion, live; `{approve}` or `{reject}`" in out
    assert _main(capsys, *shlex.split(approve)[1:])[0] == 0
    assert [p["aliases"] for p in api.load(runs, "m")["pending"]] == [["blue"]]
    code, out, _ = _main(capsys, *run)
    assert code == 0 and "served=0.9" in out
