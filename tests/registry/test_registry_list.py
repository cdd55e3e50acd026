"""`mlops-nb registry list`: every registered model, its versions, aliases and pending moves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.registry import api

Store = tuple[Path, dict[str, str]]


def _cli(capsys: pytest.CaptureFixture[str], runs: Path, *argv: str) -> tuple[int, str]:
    code = main([*argv, "--runs-dir", str(runs)])
    return code, capsys.readouterr().out


def test_an_empty_registry_says_how_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _cli(capsys, tmp_path / "runs", "registry", "list")
    promote = f"mlops-nb promote MODEL RUN --alias ALIAS --runs-dir {tmp_path / 'runs'}"
    assert (code, out) == (0, f"no registered models (register one with `{promote}`)\n")
    assert _cli(capsys, tmp_path / "runs", "registry", "list", "--json") == (0, "[]\n")


def test_list_shows_each_model_as_a_row_and_as_json(
    store: Store,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs, ids = store
    api.promote(runs, "rare", ids["a"], ["champion", "live"])
    api.promote(runs, "rare", ids["b"], ["challenger"], require_approval=True)
    api.promote(runs, "base", ids["c"], ["live"])
    code, out = _cli(capsys, runs, "registry", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["model", "versions", "aliases", "pending"]
    assert lines[2].split() == ["base", "1", "live=v1", "-"]
    assert lines[3].split() == ["rare", "2", "champion=v1,", "live=v1", "v2", "->", "challenger"]
    code, out = _cli(capsys, runs, "registry", "list", "--json")
    rows = json.loads(out)
    assert [r["model"] for r in rows] == ["base", "rare"]
    assert rows[1]["versions"] == 2
    assert rows[1]["pending"] == "v2 -> challenger"
