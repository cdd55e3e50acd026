"""What a pipeline's fingerprint sees of a registry reference (``refs.pinned``), and the registry
file's failure modes: each one a clear ``StoreError``, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.registry import api, refs
from mlops_nb.registry import store as rs

Store = tuple[Path, dict[str, str]]


def test_pinned_names_the_version_each_reference_points_to(store: Store) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["champion"])
    params = {
        "champion": "registry:m@champion",
        "challenger": "registry:m@challenger?",
        "other": "registry:unknown@live?",
        "plain": 3,
        "bad": "registry:no-alias",  # reported when the step runs, not here
    }
    assert refs.pinned(params, runs) == {
        "champion": "registry:m@champion (v1)",
        "challenger": "registry:m@challenger? (unset)",
        "other": "registry:unknown@live? (unset)",
        "plain": 3,
        "bad": "registry:no-alias",
    }
    api.promote(runs, "m", ids["b"], ["champion"])
    assert refs.pinned(params, runs)["champion"] == "registry:m@champion (v2)"


def test_pinned_steps_back_over_moves_the_step_itself_led_to(store: Store) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["champion"])
    # the step's gate promoted b, then c: the step must not see its own outcome as a change
    api.promote(runs, "m", ids["b"], ["champion"], requested_by="gate:promote")
    api.promote(runs, "m", ids["c"], ["champion"], requested_by="gate:promote")
    params = {"model": "registry:m@champion"}
    assert refs.pinned(params, runs) == {"model": "registry:m@champion (v3)"}
    assert refs.pinned(params, runs, ignore=frozenset({"gate:promote"})) == {
        "model": "registry:m@champion (v1)"
    }
    # a move by someone else after the gate's is a real change
    api.rollback(runs, "m", "champion")
    api.promote(runs, "m", ids["c"], ["champion"], requested_by="alice")
    assert refs.pinned(params, runs, ignore=frozenset({"gate:promote"})) == {
        "model": "registry:m@champion (v3)"
    }


def test_pinned_first_registration_by_the_gate_reads_unset(store: Store) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["champion"], requested_by="gate:g")
    params = {"model": "registry:m@champion?"}
    assert refs.pinned(params, runs, ignore=frozenset({"gate:g"})) == {
        "model": "registry:m@champion? (unset)"
    }


def _model_file(runs: Path) -> Path:
    return rs.model_file(runs, "m")


def test_a_registry_file_that_cannot_be_read_is_a_store_error(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _model_file(runs).mkdir(parents=True)  # a folder where the file should be
    with pytest.raises(StoreError, match=r"cannot read the registry file .*m\.json: "):
        rs.read_model(runs, "m")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("[1, 2]", "not a JSON object"),
        (
            '{"name": "m", "versions": [], "aliases": [], "pending": [], "history": []}',
            "'aliases' is missing or not a dict",
        ),
        (
            '{"name": "n", "versions": [], "aliases": {}, "pending": [], "history": []}',
            "it names model 'n', not 'm'",
        ),
    ],
    ids=["not-an-object", "aliases-a-list", "another-model"],
)
def test_a_corrupt_file_says_what_is_wrong_and_how_to_fix(
    tmp_path: Path, content: str, why: str
) -> None:
    runs = tmp_path / "runs"
    path = _model_file(runs)
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    with pytest.raises(StoreError) as e:
        rs.read_model(runs, "m")
    assert e.value.message == (
        f"corrupt registry file {path}: {why}; nothing was changed. Fix it or restore it from a "
        "backup."
    )


def test_a_registry_that_cannot_be_written_is_a_store_error_and_keeps_the_file(
    store: Store,
) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["champion"])
    before = _model_file(runs).read_text(encoding="utf-8")
    backup = _model_file(runs).with_name("m.json.bak")
    backup.mkdir()  # the backup cannot be replaced
    with pytest.raises(StoreError, match=r"cannot write the registry file .*m\.json: "):
        api.promote(runs, "m", ids["b"], ["champion"])
    assert _model_file(runs).read_text(encoding="utf-8") == before


def test_a_runs_folder_where_the_registry_cannot_be_made(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    rs.registry_dir(runs).write_text("a file, not a folder", encoding="utf-8")
    with (
        pytest.raises(StoreError, match=r"cannot write the model registry in .*registry: "),
        rs.locked(runs),
    ):
        pass


def test_model_names_lists_registered_models_only(store: Store) -> None:
    runs, ids = store
    assert rs.model_names(runs) == []
    api.promote(runs, "zeta", ids["a"], ["live"])
    api.promote(runs, "alpha", ids["a"], ["live"])
    (rs.registry_dir(runs) / "notes.txt").write_text("x", encoding="utf-8")
    (rs.registry_dir(runs) / "Bad Name.json").write_text("{}", encoding="utf-8")
    assert rs.model_names(runs) == ["alpha", "zeta"]
    assert [d["name"] for d in api.all_models(runs)] == ["alpha", "zeta"]
    assert json.loads(_model_file(runs).with_name("alpha.json").read_text())["aliases"] == {
        "live": 1
    }
