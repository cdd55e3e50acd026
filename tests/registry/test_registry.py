"""The model registry: versions, aliases, history, approval, rollback, concurrency, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.registry import api

pytestmark = [pytest.mark.kernel]

Store = tuple[Path, dict[str, str]]


def _cli(capsys: pytest.CaptureFixture[str], runs: Path, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--runs-dir", str(runs)])
    got = capsys.readouterr()
    return code, got.out, got.err


def _file(runs: Path, model: str = "m") -> Path:
    return runs / "registry" / f"{model}.json"


def test_versions_aliases_and_history(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    runs, ids = store
    assert _cli(capsys, runs, "promote", "m", ids["a"], "--alias", "champion")[0] == 0
    code, out, _ = _cli(
        capsys, runs, "promote", "m", ids["b"], "--alias", "challenger", "--reason", "retrained"
    )
    assert code == 0 and "challenger: none -> v2" in out
    # the same run again is the same version, not a new one
    assert _cli(capsys, runs, "promote", "m", ids["a"], "--alias", "blue")[0] == 0
    doc = api.load(runs, "m")
    assert [v["run_id"] for v in doc["versions"]] == [ids["a"], ids["b"]]
    assert doc["aliases"] == {"champion": 1, "challenger": 2, "blue": 1}
    v1 = doc["versions"][0]
    assert v1["artifact"] == "model.joblib" and len(v1["sha256"]) == 64
    assert v1["scraps"]["f1"] == 0.5  # a snapshot of the run's scalar scraps; strict JSON:
    json.loads(_file(runs).read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    promotes = [e for e in doc["history"] if e["action"] == "promote"]
    assert [(e["aliases"], e["from"], e["to"]) for e in promotes] == [
        (["champion"], {"champion": None}, 1),
        (["challenger"], {"challenger": None}, 2),
        (["blue"], {"blue": None}, 1),
    ]
    assert promotes[1]["reason"] == "retrained" and promotes[1]["by"]
    code, out, _ = _cli(capsys, runs, "registry", "show", "m")
    assert code == 0 and "[blue, champion]" in out and "retrained" in out
    code, out, _ = _cli(capsys, runs, "registry", "list", "--json")
    assert json.loads(out) == [
        {
            "model": "m",
            "versions": 2,
            "aliases": "blue=v1, challenger=v2, champion=v1",
            "pending": "-",
        }
    ]


def test_blue_green_switch_and_rollback(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["blue", "live"])
    api.promote(runs, "m", ids["b"], ["green"])
    code, out, _ = _cli(capsys, runs, "promote", "m", "@green", "--alias", "live")
    assert code == 0 and "live: v1 -> v2" in out
    assert api.resolve(runs, "m", "live").run_id == ids["b"]
    api.promote(runs, "m", ids["c"], ["live"])
    assert _cli(capsys, runs, "rollback", "m", "--alias", "live")[0] == 0
    assert api.load(runs, "m")["aliases"]["live"] == 2
    assert _cli(capsys, runs, "rollback", "m", "--alias", "live")[0] == 0
    assert api.load(runs, "m")["aliases"]["live"] == 1  # rollbacks undo one move each
    code, _, err = _cli(capsys, runs, "rollback", "m", "--alias", "live")
    assert code == 2 and "no previous version" in err
    assert api.load(runs, "m")["aliases"]["live"] == 1


def test_require_approval_then_approve_or_reject(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["champion"])
    code, out, _ = _cli(
        capsys, runs, "promote", "m", ids["b"], "--alias", "champion", "--require-approval"
    )
    assert code == 0 and "pending approval" in out
    doc = api.load(runs, "m")
    assert doc["aliases"]["champion"] == 1 and doc["pending"][0]["version"] == 2
    assert "pending: v2 -> champion" in _cli(capsys, runs, "registry", "show", "m")[1]
    code, out, _ = _cli(capsys, runs, "approve", "m", "--reason", "looked at the shadow report")
    assert code == 0 and "champion: v1 -> v2" in out
    doc = api.load(runs, "m")
    assert doc["aliases"]["champion"] == 2 and doc["pending"] == []
    assert doc["history"][-1]["action"] == "approve"
    api.promote(runs, "m", ids["c"], ["champion"], require_approval=True)
    assert _cli(capsys, runs, "reject", "m")[0] == 0
    doc = api.load(runs, "m")
    assert doc["aliases"]["champion"] == 2 and doc["pending"] == []
    assert doc["history"][-1]["action"] == "reject" and doc["history"][-1]["to"] == 3


def _unchanged(runs: Path, before: bytes | None) -> None:
    path = _file(runs)
    assert (path.read_bytes() if path.exists() else None) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["registry", "show", "nope"], "unknown model 'nope'"),
        (["promote", "m", "{failed}", "--alias", "champion"], "is failed; only a successful run"),
        (["promote", "m", "{nomodel}", "--alias", "champion"], "no model artifact 'model.joblib'"),
        (["promote", "m", "no-such-run", "--alias", "champion"], "no run 'no-such-run'"),
        (["promote", "m", "{b}", "--alias", "Champion"], "invalid alias 'Champion'"),
        (["promote", "m", "{b}", "--alias", "latest"], "reserved"),
        (["promote", "../m", "{b}", "--alias", "champion"], "invalid model name"),
        (["promote", "m", "@nope", "--alias", "live"], "has no alias 'nope'"),
        (["promote", "m", "v9", "--alias", "live"], "has no version 9 (its one version is v1)"),
        (["promote", "nosuch", "@green", "--alias", "live"], "unknown model 'nosuch'"),
        (["promote", "nosuch", "v1", "--alias", "live"], "unknown model 'nosuch'"),
        (
            ["promote", "m", "v01", "--alias", "live"],
            "'v01' is not a version number as written: write v1.",
        ),
        (["promote", "m", "{b}", "--alias", "x", "--artifact", "../m.json"], "inside the run"),
        (["promote", "m", "{b}", "--alias", "x", "--artifact", "/etc/hostname"], "inside the run"),
        (["approve", "m"], "no pending promotion"),
        (["reject", "m", "--alias", "champion"], "no pending promotion for alias 'champion'"),
        (["rollback", "m", "--alias", "ghost"], "has no alias 'ghost'"),
        (["approve", "nope"], "unknown model 'nope'"),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v)[:40],
)
def test_bad_input_is_one_line_exit_2_registry_unchanged(
    store: Store, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["champion"])
    before = _file(runs).read_bytes()
    code, out, err = _cli(capsys, runs, *[a.format(**ids) for a in argv])
    assert code == 2, out + err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    _unchanged(runs, before)


def test_a_refused_first_promotion_creates_nothing(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    code, _, err = _cli(capsys, runs, "promote", "m", ids["failed"], "--alias", "champion")
    assert code == 2 and "is failed" in err
    assert not (runs / "registry").exists()
    for ref in ("@green", "v1"):  # another alias's version, or a version, of no model yet
        code, _, err = _cli(capsys, runs, "promote", "m", ref, "--alias", "live")
        assert code == 2 and "unknown model 'm'" in err and "alias" not in err.split(";")[0]
        assert not (runs / "registry").exists()
    for run in ("a", "b"):
        api.promote(runs, "m", ids[run], ["live"])
    code, _, err = _cli(capsys, runs, "promote", "m", "v5", "--alias", "live")
    assert code == 2 and "model 'm' has no version 5 (versions v1-v2)." in err


def test_corrupt_registry_file_is_a_clear_error_and_loses_nothing(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["champion"])
    api.promote(runs, "m", ids["b"], ["champion"])
    good = _file(runs).read_text()
    broken = good[: len(good) // 2]
    _file(runs).write_text(broken)
    for argv in (["promote", "m", ids["c"], "--alias", "live"], ["registry", "show", "m"]):
        code, _, err = _cli(capsys, runs, *argv)
        assert code == 2 and "corrupt registry file" in err and "m.json.bak" in err
        assert _file(runs).read_text() == broken
    # the backup holds the state before the last change
    assert json.loads((runs / "registry" / "m.json.bak").read_text())["aliases"] == {"champion": 1}
    _file(runs).write_text(json.dumps({"name": "other", "versions": []}))
    code, _, err = _cli(capsys, runs, "rollback", "m", "--alias", "champion")
    assert code == 2 and "corrupt registry file" in err


def test_concurrent_promotions_from_two_processes_lose_nothing(store: Store) -> None:
    runs, ids = store
    n = 15
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mlops_nb.registry import api\n"
        "runs, run, other, alias = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]\n"
        "sys.stdin.readline()\n"  # start together
        f"for i in range({n}):\n"  # the alias moves every time (a promotion in place is no entry)
        "    api.promote(runs, 'm', (run, other)[i % 2], [alias], reason=f'{alias} {i}')\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(runs), ids[label], ids["c"], alias],
            stdin=subprocess.PIPE,
            text=True,
        )
        for label, alias in (("a", "blue"), ("b", "green"))
    ]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        p.stdin.close()  # type: ignore[union-attr]
        assert p.wait(timeout=120) == 0
    doc = api.load(runs, "m")
    promotes = [e for e in doc["history"] if e["action"] == "promote"]
    assert len(promotes) == 2 * n
    assert sorted(e["reason"] for e in promotes) == sorted(
        [f"blue {i}" for i in range(n)] + [f"green {i}" for i in range(n)]
    )
    assert [e["seq"] for e in doc["history"]] == list(range(1, len(doc["history"]) + 1))
    run_of = {v["version"]: v["run_id"] for v in doc["versions"]}
    assert len(run_of) == 3  # registered in the order the processes got there; c once
    assert {a: run_of[n] for a, n in doc["aliases"].items()} == {
        "blue": ids["a"],
        "green": ids["b"],
    }
