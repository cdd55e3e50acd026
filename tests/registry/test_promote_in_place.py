"""Promoting a version to aliases that already point at it changes nothing and records nothing
(exit 0, one line saying so), as `git tag` leaves a tag that is already in place."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.registry import api

pytestmark = [pytest.mark.kernel]

Store = tuple[Path, dict[str, str]]


def _cli(capsys: pytest.CaptureFixture[str], runs: Path, *argv: str) -> tuple[int, str]:
    code = main([*argv, "--runs-dir", str(runs)])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("ref", ["{a}", "v1", "@live"])
@pytest.mark.parametrize("approval", [[], ["--require-approval"]], ids=["direct", "approval"])
def test_a_promotion_to_where_the_aliases_are_is_a_no_op(
    store: Store, ref: str, approval: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["live", "champion"])
    file = runs / "registry" / "m.json"
    before = file.read_bytes()
    argv = ["promote", "m", ref.format(**ids), "--alias", "live", "--alias", "champion"]
    code, out = _cli(capsys, runs, *argv, *approval)
    what = "to request" if approval else "changed"
    assert (code, out) == (0, f"m: live, champion already at v1; nothing {what}\n")
    assert file.read_bytes() == before  # no history entry, no pending request


def test_an_alias_that_moves_is_recorded_with_the_one_in_place(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["live"])
    code, out = _cli(capsys, runs, "promote", "m", "v1", "--alias", "live", "--alias", "green")
    assert code == 0 and out == "m: promote live: v1 -> v1, green: none -> v1\n"
    assert api.load(runs, "m")["history"][-1]["aliases"] == ["live", "green"]


def test_a_request_in_place_asks_for_nothing_and_names_the_one_pending(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """live is v1 and v2 waits for approval: asking for v1 again records no `v1 -> v1` request
    (someone would have to approve a no-op, and its history entries would read as a hand-made
    move); the line names the pending request and how to drop it, pasted as printed."""
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["live"])
    api.promote(runs, "m", ids["b"], ["live"], require_approval=True)
    file = runs / "registry" / "m.json"
    before = file.read_bytes()
    code, out = _cli(capsys, runs, "promote", "m", "v1", "--alias", "live", "--require-approval")
    reject = f"mlops-nb reject m --alias live --runs-dir {runs}"
    assert (code, out) == (
        0,
        f"m: live already at v1; nothing to request (still pending: v2 -> live; drop it with "
        f"`{reject}`)\n",
    )
    assert file.read_bytes() == before
    assert main(shlex.split(reject)[1:]) == 0
    assert api.load(runs, "m")["pending"] == [] and api.load(runs, "m")["aliases"] == {"live": 1}
