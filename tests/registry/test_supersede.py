"""review7 M5: a direct promotion (or rollback) of an alias settles the pending request for that
alias, as a newer request does: approving the old request afterwards silently undid the hand
promotion (champion v3 -> v2). The request's other aliases stay pending; a ``supersede`` history
entry and a printed line say what happened. Real runs in a real store."""

from __future__ import annotations

import pytest

from mlops_nb.main import main
from mlops_nb.registry import api

pytestmark = [pytest.mark.kernel]


def _cli(capsys: pytest.CaptureFixture[str], runs: object, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--runs-dir", str(runs)])
    got = capsys.readouterr()
    return code, got.out, got.err


def test_a_direct_promotion_settles_the_pending_request_for_its_alias(
    store: tuple[object, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    assert _cli(capsys, runs, "promote", "m", ids["a"], "--alias", "champion")[0] == 0
    request = ["promote", "m", ids["b"], "--alias", "champion", "--alias", "live"]
    assert _cli(capsys, runs, *request, "--require-approval")[0] == 0  # entry 4: v2
    code, out, _ = _cli(capsys, runs, "promote", "m", ids["c"], "--alias", "champion")
    assert code == 0
    assert out.splitlines() == [
        "m: promote champion: v1 -> v3",
        "m: settles (supersedes) pending request 4: champion -> v2 (still pending: live -> v2)",
    ]
    doc = api.load(runs, "m")  # type: ignore[arg-type]
    assert doc["pending"] == [{**doc["pending"][0], "seq": 4, "version": 2, "aliases": ["live"]}]
    last = doc["history"][-1]
    assert (last["action"], last["request"], last["superseded_by"]) == ("supersede", 4, 6)
    assert last["aliases"] == ["champion"] and last["still_pending"] == ["live"]
    code, _, err = _cli(capsys, runs, "approve", "m", "--alias", "champion")
    assert code == 2 and "no pending promotion for alias 'champion'" in err
    assert _cli(capsys, runs, "approve", "m")[0] == 0  # the rest of the request: live
    assert api.load(runs, "m")["aliases"] == {"champion": 3, "live": 2}  # type: ignore[arg-type]


def test_a_rollback_settles_the_pending_request_for_its_alias(
    store: tuple[object, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    for run in ("a", "b"):
        assert _cli(capsys, runs, "promote", "m", ids[run], "--alias", "live")[0] == 0
    request = ["promote", "m", ids["c"], "--alias", "live", "--require-approval"]
    assert _cli(capsys, runs, *request)[0] == 0
    code, out, _ = _cli(capsys, runs, "rollback", "m", "--alias", "live")
    assert code == 0 and out.splitlines()[1:] == [
        "m: settles (supersedes) pending request 6: live -> v3"
    ]
    assert api.load(runs, "m")["pending"] == []  # type: ignore[arg-type]
    code, _, err = _cli(capsys, runs, "approve", "m")
    assert code == 2 and "has no pending promotion" in err
    assert api.load(runs, "m")["aliases"] == {"live": 1}  # type: ignore[arg-type]


def test_a_promotion_that_moves_nothing_leaves_the_request_pending(
    store: tuple[object, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    assert _cli(capsys, runs, "promote", "m", ids["a"], "--alias", "live")[0] == 0
    request = ["promote", "m", ids["b"], "--alias", "live", "--require-approval"]
    assert _cli(capsys, runs, *request)[0] == 0
    code, out, _ = _cli(capsys, runs, "promote", "m", ids["a"], "--alias", "live")
    assert code == 0 and "supersede" not in out
    assert [p["aliases"] for p in api.load(runs, "m")["pending"]] == [["live"]]  # type: ignore[arg-type]
