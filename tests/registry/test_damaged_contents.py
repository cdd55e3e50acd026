"""A registry file of the right shape with wrong contents (the kind of review6 item 8 in the
registry): refused by every command with one line naming the file and what is wrong, exit 2,
never an internal error and never written over (a promotion wrote over `versions: [5]`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.main import main
from mlops_nb.registry import api
from mlops_nb.registry.checks import doc_problem

pytestmark = [pytest.mark.kernel]

Store = tuple[Path, dict[str, str]]
Doc = dict[str, Any]


def _set(key: str, value: Any) -> Callable[[Doc], None]:
    return lambda d: d.__setitem__(key, value)


def _first(key: str, sub: str, value: Any) -> Callable[[Doc], None]:
    return lambda d: d[key][0].__setitem__(sub, value)


CASES: list[tuple[str, Callable[[Doc], None], str]] = [
    ("alias-text", _set("aliases", {"live": "x"}), "alias 'live' points at 'x', not a version"),
    ("alias-9", _set("aliases", {"live": 9}), "alias 'live' points at 9, not a version of the"),
    ("alias-bool", _set("aliases", {"live": True}), "alias 'live' points at True"),
    ("version-int", _set("versions", [5]), "version entry 1 is not version 1"),
    ("version-str", _first("versions", "version", "1"), "version entry 1 is not version 1"),
    ("version-sha", _first("versions", "sha256", None), "version 1 has no 'sha256'"),
    ("history-int", _set("history", [5]), "history entry 1 has no number ('seq')"),
    ("history-aliases", _first("history", "aliases", 3), "history entry 1 has no 'aliases'"),
    (
        "history-alias",
        _first("history", "aliases", [3]),
        "history entry 1 names an alias that is not text",
    ),
    ("history-to", _first("history", "to", "v1"), "history entry 1 moves to 'v1', not a version"),
    ("history-from", _first("history", "from", None), "history entry 1 has no 'from'"),
    (
        "pending-version",
        _set("pending", [{"seq": 1, "version": 7, "aliases": ["x"]}]),
        "pending request 1 asks for v7, not a version of the model",
    ),
    # review7 L7: enumerated and path values are checked against what they may be
    (
        "pending-LIVE",
        _set("pending", [{"seq": 1, "version": 1, "aliases": ["LIVE"]}]),
        "pending request 1 names 'LIVE', not a valid alias",
    ),
    (
        "pending-latest",
        _set("pending", [{"seq": 1, "version": 1, "aliases": ["latest"]}]),
        "pending request 1 names 'latest', not a valid alias",
    ),
    ("alias-LIVE", _set("aliases", {"LIVE": 1}), "alias 'LIVE' is not a valid alias"),
    ("sha-empty", _first("versions", "sha256", ""), "version 1's sha256 '' is not 64 hex"),
    ("sha-short", _first("versions", "sha256", "ab12"), "version 1's sha256 'ab12' is not 64"),
    (
        "run-id-up",
        _first("versions", "run_id", "../../etc"),
        "version 1's run_id '../../etc' leaves its folder",
    ),
    ("run-id-dots", _first("versions", "run_id", ".."), "version 1's run_id '..' leaves its"),
    ("run-id-empty", _first("versions", "run_id", ""), "version 1's run_id '' leaves its"),
    (
        "artifact-up",
        _first("versions", "artifact", "../../../../etc/passwd"),
        "version 1's artifact '../../../../etc/passwd' leaves its folder",
    ),
    (
        "artifact-abs",
        _first("versions", "artifact", "/etc/passwd"),
        "version 1's artifact '/etc/passwd' leaves its folder",
    ),
    (
        "history-action",
        _first("history", "action", "promoted"),
        "history entry 1 has action 'promoted', not one of register, promote, request",
    ),
]


@pytest.mark.parametrize(("damage", "why"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_wrong_contents_are_refused_by_every_command(
    store: Store, capsys: pytest.CaptureFixture[str], damage: Callable[[Doc], None], why: str
) -> None:
    runs, ids = store
    api.promote(runs, "mm", ids["a"], ["live"])
    path = runs / "registry" / "mm.json"
    doc = json.loads(path.read_text())
    damage(doc)
    text = json.dumps(doc)
    path.write_text(text)
    for argv in (
        ["registry", "show", "mm"],
        ["registry", "list"],
        ["promote", "mm", ids["b"], "--alias", "live"],
        ["promote", "mm", "v1", "--alias", "blue"],
        ["rollback", "mm", "--alias", "live"],
        ["approve", "mm"],
    ):
        code = main([*argv, "--runs-dir", str(runs)])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        assert err.startswith(f"mlops-nb: error: corrupt registry file {path}: {why}"), err
    assert path.read_text() == text


def test_what_the_registry_writes_passes(store: Store) -> None:
    runs, ids = store
    api.promote(runs, "mm", ids["a"], ["live", "blue"])
    api.promote(runs, "mm", ids["b"], ["live"], require_approval=True)
    api.promote(runs, "mm", ids["c"], ["live", "green"], require_approval=True)
    api.reject(runs, "mm", alias="green")
    api.promote(runs, "mm", "@blue", ["champion"])
    api.promote(runs, "mm", ids["b"], ["blue"])
    api.rollback(runs, "mm", "blue")
    doc = json.loads((runs / "registry" / "mm.json").read_text())
    assert doc_problem(doc, "mm") is None
    assert doc_problem({**doc, "unknown_key": 1}, "mm") is None  # keys not read are left alone
