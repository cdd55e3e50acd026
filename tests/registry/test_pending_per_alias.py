"""Pending promotions are kept per alias (review5 item 4): a newer request takes over only the
aliases it names, with a `replace` history entry; approve/reject take one alias, several or all;
`registry list/show` show each pending alias; files the earlier code wrote are read as they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.registry import api
from tests.registry.test_registry import Store, _cli

pytestmark = [pytest.mark.kernel]


def _pending(runs: Path) -> dict[str, int]:
    return {a: p["version"] for p in api.load(runs, "mm")["pending"] for a in p["aliases"]}


def test_a_second_request_replaces_only_the_aliases_it_names(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    argv = ["promote", "mm", ids["a"], "--alias", "green", "--alias", "challenger"]
    assert _cli(capsys, runs, *argv, "--require-approval")[0] == 0
    code, out, _ = _cli(
        capsys, runs, "promote", "mm", ids["b"], "--alias", "green", "--require-approval"
    )
    assert code == 0
    assert out.splitlines() == [
        "mm: pending approval green: none -> v2",
        "mm: replaces pending request 2: green -> v1 (still pending: challenger -> v1)",
        f"  approve with `mlops-nb approve mm --alias green --runs-dir {runs}`, or "
        f"`mlops-nb reject mm --alias green --runs-dir {runs}`",
    ]
    assert _pending(runs) == {"challenger": 1, "green": 2}
    history = api.load(runs, "mm")["history"]
    assert [(e["action"], e["aliases"], e["to"]) for e in history[-2:]] == [
        ("request", ["green"], 2),
        ("replace", ["green"], 1),
    ]
    assert history[-1]["request"] == 2 and history[-1]["replaced_by"] == history[-2]["seq"]
    code, out, _ = _cli(capsys, runs, "registry", "list")
    assert out.splitlines()[2].split()[-6:] == ["v1", "->", "challenger;", "v2", "->", "green"]
    code, out, _ = _cli(capsys, runs, "registry", "show", "mm")
    assert "pending: v1 -> challenger  requested by" in out and "(request 2)" in out
    assert f"`mlops-nb approve mm --alias green --runs-dir {runs}`" in out
    code, out, _ = _cli(capsys, runs, "approve", "mm", "--alias", "challenger")
    assert (code, out) == (0, "mm: approve challenger: none -> v1\n")
    doc = api.load(runs, "mm")
    assert doc["aliases"] == {"challenger": 1} and _pending(runs) == {"green": 2}
    assert doc["history"][-1]["request"] == 2


def test_approve_or_reject_one_alias_of_a_request_keeps_the_others_pending(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    api.promote(runs, "mm", ids["a"], ["champion", "live", "blue"], require_approval=True)
    assert _cli(capsys, runs, "reject", "mm", "--alias", "live", "--alias", "blue")[0] == 0
    assert _pending(runs) == {"champion": 1}
    entry = api.load(runs, "mm")["history"][-1]
    assert (entry["action"], entry["aliases"], entry["request"]) == ("reject", ["live", "blue"], 2)
    code, out, _ = _cli(capsys, runs, "approve", "mm")  # the one request left: no alias needed
    assert (code, out) == (0, "mm: approve champion: none -> v1\n")
    assert api.load(runs, "mm")["aliases"] == {"champion": 1} and _pending(runs) == {}


def test_several_requests_need_an_alias_or_all(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    api.promote(runs, "mm", ids["a"], ["green"], require_approval=True)
    api.promote(runs, "mm", ids["b"], ["challenger", "live"], require_approval=True)
    before = (runs / "registry" / "mm.json").read_bytes()
    code, _, err = _cli(capsys, runs, "approve", "mm")
    assert code == 2 and err.count("\n") == 1
    assert err == (
        "mlops-nb: error: model 'mm' has 2 pending requests (v1 -> green; v2 -> challenger; "
        "v2 -> live); say which with --alias ALIAS (repeatable), or approve them all with --all.\n"
    )
    code, _, err = _cli(capsys, runs, "reject", "mm", "--alias", "green", "--alias", "champion")
    assert code == 2 and "no pending promotion for alias 'champion' (pending: v1 -> green" in err
    assert (runs / "registry" / "mm.json").read_bytes() == before  # nothing taken
    with pytest.raises(StoreError, match="say which with alias=, or reject them all with ev"):
        api.reject(runs, "mm")
    code, out, _ = _cli(capsys, runs, "approve", "mm", "--all", "--reason", "looked")
    assert code == 0 and out.splitlines() == [
        "mm: approve green: none -> v1",
        "mm: approve challenger: none -> v2, live: none -> v2",
    ]
    assert api.load(runs, "mm")["aliases"] == {"green": 1, "challenger": 2, "live": 2}
    with pytest.raises(SystemExit) as e:
        _cli(capsys, runs, "approve", "mm", "--all", "--alias", "green")
    assert e.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_a_file_written_before_keeps_working(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """A registry file of the earlier code (one pending request naming two aliases, format 1)
    is read as it is: its aliases are approved and replaced one by one."""
    runs, ids = store
    api.promote(runs, "mm", ids["a"], ["blue"])
    path = runs / "registry" / "mm.json"
    doc = json.loads(path.read_text())
    doc["history"].append(
        {
            "seq": 3,
            "at": "2026-11-30T12:00:00Z",
            "by": "alice",
            "action": "request",
            "aliases": ["green", "challenger"],
            "from": {"green": None, "challenger": None},
            "to": 1,
            "reason": None,
            "requested_by": None,
        }
    )
    doc["pending"] = [
        {
            "seq": 3,
            "version": 1,
            "aliases": ["green", "challenger"],
            "reason": None,
            "requested_by": "alice",
            "requested_at": "2026-11-30T12:00:00Z",
        }
    ]
    path.write_text(json.dumps(doc))
    api.promote(runs, "mm", ids["b"], ["challenger"], require_approval=True)
    assert _pending(runs) == {"green": 1, "challenger": 2}
    assert _cli(capsys, runs, "approve", "mm", "--alias", "green")[0] == 0
    assert api.load(runs, "mm")["aliases"] == {"blue": 1, "green": 1}


@pytest.mark.parametrize(
    ("pending", "why"),
    [
        ([{"seq": 2, "version": 1}], "pending request 1 has no list of aliases"),
        ([{"seq": 2, "version": 1, "aliases": []}], "pending request 1 has no list of aliases"),
        ([{"seq": 2, "version": 1, "aliases": [3]}], "pending request 1 has no list of aliases"),
        (["x"], "pending request 1 has no list of aliases"),
        ([{"seq": "2", "version": 1, "aliases": ["a"]}], "pending request 1 has no integer 'seq'"),
        (
            [{"seq": 2, "version": True, "aliases": ["a"]}],
            "pending request 1 has no integer 'version'",
        ),
        (
            [
                {"seq": 2, "version": 1, "aliases": ["a"]},
                {"seq": 3, "version": 1, "aliases": ["a"]},
            ],
            "alias 'a' is pending in two requests",
        ),
    ],
    ids=["no-aliases", "empty", "int-alias", "str", "seq-str", "version-bool", "twice"],
)
def test_a_damaged_pending_list_is_refused(
    store: Store, capsys: pytest.CaptureFixture[str], pending: list[object], why: str
) -> None:
    runs, ids = store
    api.promote(runs, "mm", ids["a"], ["blue"])
    path = runs / "registry" / "mm.json"
    doc = json.loads(path.read_text())
    text = json.dumps({**doc, "pending": pending})
    path.write_text(text)
    for argv in (["approve", "mm"], ["registry", "show", "mm"], ["registry", "list"]):
        code, _, err = _cli(capsys, runs, *argv)
        assert code == 2 and err.count("\n") == 1, err
        assert f"corrupt registry file {path}: {why}; nothing was changed." in err
    assert path.read_text() == text
