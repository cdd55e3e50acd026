"""The pipeline's state file and lock: damaged state, unwritable state and a second
`pipeline run` are one clear StoreError."""

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
    ("text", "why"),
    [
        ("{not json", "not valid JSON (Expecting property name enclosed in double quotes: "),
        ('{"x":', "not valid JSON (Expecting value: "),
        ("", "not valid JSON (Expecting value: "),
        ("[1]", "not a mapping with 'steps'"),
        ('{"steps": [1]}', "not a mapping with 'steps'"),
        ('{"steps": {"a": {"parts": {}}}}', "step 'a' has no 'fingerprint'"),
        ('{"steps": {"a": 3}}', "step 'a' is not a mapping"),
        (
            '{"steps": {"a": {"fingerprint": "f", "parts": {"cells": 3}}}}',
            "step 'a' has no 'run_id'",
        ),
        (b"\xff\xfe", "'utf-8' codec can't decode byte 0xff"),
    ],
    ids=["bad", "truncated", "empty", "list", "steps-list", "no-fp", "step-int", "parts", "bytes"],
)
def test_damaged_state_is_refused_not_read_as_never_run(
    tmp_path: Path, text: str | bytes, why: str
) -> None:
    """review5 item 11: read as "never run", the next run re-ran (and re-promoted) everything."""
    store = StateStore(tmp_path, "p")
    store.dir.mkdir(parents=True)
    if isinstance(text, bytes):
        store.file.write_bytes(text)
    else:
        store.file.write_text(text)
    with pytest.raises(StoreError) as e:
        store.load()
    head, _, tail = e.value.message.partition(why)
    assert head == f"damaged pipeline state {store.file}: ", e.value.message
    assert tail.endswith(
        "; nothing was run. Restore it (from a backup or version control), run every step again "
        "with `pipeline run --force` (the file is then kept as state.json.damaged), or delete it "
        "to start over."
    )
    assert store.file.read_bytes() == (text if isinstance(text, bytes) else text.encode())


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


def test_status_and_run_refuse_a_damaged_state_and_run_nothing(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlops_nb.main import main
    from mlops_nb.store.runs import is_run_id
    from tests import nbbuild as b

    b.write(tmp_path / "a.ipynb", b.params("x = 1"), b.code("y = x"))
    pf = tmp_path / "p.yaml"
    pf.write_text("name: p\nsteps:\n  a: {notebook: a.ipynb, kernel: python3}\n")
    store = StateStore(runs_dir, "p")
    store.dir.mkdir(parents=True)
    store.file.write_text('{"steps": {"a": {"fingerprint": ')
    for action in (["status"], ["run"], ["mark-done", "a"]):
        assert main(["pipeline", *action, str(pf), "--runs-dir", str(runs_dir)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"mlops-nb: error: damaged pipeline state {store.file}: not valid")
        assert err.count("\n") == 1
    assert store.file.read_text() == '{"steps": {"a": {"fingerprint": '
    assert not [p for p in runs_dir.iterdir() if is_run_id(p.name)]  # nothing ran
