"""The pipeline's state file and lock: unreadable state is no state, unwritable state and a
second `pipeline run` are one clear StoreError."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.pipeline.fingerprint import Parts
from mlops_nb.pipeline.state import StateStore, StepState

PARTS = Parts(["c"], {"x": 1}, {}, {}, {}, {}, {"data.csv": "md5"})
STATE = StepState("f", PARTS, "r1", "/runs/r1", "ok", {"u": "r0"}, marked_done=True, sweep_id="s")


def test_state_round_trips(tmp_path: Path) -> None:
    store = StateStore(tmp_path, "p")
    store.save({"a": STATE})
    assert store.load() == {"a": STATE}


@pytest.mark.parametrize(
    "text", ["{not json", '{"steps": {"a": {"parts": {}}}}', "[1]"], ids=["bad", "no-fp", "list"]
)
def test_unreadable_state_is_no_state(tmp_path: Path, text: str) -> None:
    store = StateStore(tmp_path, "p")
    store.dir.mkdir(parents=True)
    store.file.write_text(text)
    assert store.load() == {}


def test_unwritable_state_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "pipelines").write_text("a file where a folder goes")
    store = StateStore(tmp_path, "p")
    with pytest.raises(StoreError, match="cannot write pipeline state in"):
        store.save({"a": STATE})
    with pytest.raises(StoreError, match="cannot write pipeline state in"):
        store.save_run("r", {})


def test_unwritable_files_are_store_errors(tmp_path: Path) -> None:
    store = StateStore(tmp_path, "p")
    store.file.mkdir(parents=True)  # a folder where state.json goes
    with pytest.raises(StoreError, match=r"cannot write pipeline state .*state\.json"):
        store.save({"a": STATE})
    (store.dir / "runs" / "r.json").mkdir(parents=True)
    with pytest.raises(StoreError, match="cannot write the pipeline run record"):
        store.save_run("r", {})


def test_a_second_run_of_the_same_pipeline_is_refused(tmp_path: Path) -> None:
    store = StateStore(tmp_path, "p")
    refused = pytest.raises(StoreError, match="another `mlops-nb pipeline run` is running")
    with store.lock(), refused, StateStore(tmp_path, "p").lock():
        pass  # pragma: no cover
    with store.lock():  # released
        pass
