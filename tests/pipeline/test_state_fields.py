"""A pipeline state.json of the right shape with wrong contents (review6 item 8, review5 item 11)
is refused key by key, as a truncated one is: one line naming the file, what is wrong and how to
go on, exit 2, nothing run or written; `pipeline run --force` moves it aside and runs every step."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.main import main
from mlops_nb.pipeline.fingerprint import Parts
from mlops_nb.pipeline.state import StateStore, StepState, step_problem
from mlops_nb.store.runs import is_run_id
from tests import nbbuild as b

PARTS = Parts(["c"], {"x": 1}, {"u": "f0"}, {"d.csv": "s"}, {"m": "s"}, {}, {"d.csv": "md5"})
GOOD = StepState("f", PARTS, "r1", "/runs/r1", "ok", {"u": "r0", "rep": None}).to_dict()


def _set(path: str, value: Any) -> dict[str, Any]:
    d = copy.deepcopy(GOOD)
    *keys, last = path.split(".")
    target = d
    for k in keys:
        target = target[k]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return d


CASES = [
    ("fingerprint", 5, "'fingerprint' is not a string (5)"),
    ("fingerprint", True, "'fingerprint' is not a string (True)"),
    ("fingerprint", "", "'fingerprint' is empty"),
    ("fingerprint", KeyError, "has no 'fingerprint'"),
    ("run_id", KeyError, "has no 'run_id'"),
    ("run_id", 5, "'run_id' is not a string or null (5)"),
    ("run_folder", ["x"], "'run_folder' is not a string or null (['x'])"),
    ("status", None, "'status' is not a string (None)"),
    ("status", "", "'status' is empty"),
    # review7 M7: only the statuses a step ends in
    ("status", "weird", "'status' is 'weird', not one of ok, failed, timeout, interrupted, lost"),
    (
        "status",
        "running",
        "'status' is 'running', not one of ok, failed, timeout, interrupted, lost",
    ),
    ("status", "OK", "'status' is 'OK', not one of ok, failed, timeout, interrupted, lost"),
    ("consumed", [], "'consumed' is not a mapping ([])"),
    ("consumed", {"u": 3}, "'consumed' maps a step to something else than a run id"),
    ("marked_done", "yes", "'marked_done' is not true or false ('yes')"),
    ("marked_done", 0, "'marked_done' is not true or false (0)"),
    ("sweep_id", 1, "'sweep_id' is not a string or null (1)"),
    ("parts", [], "'parts' is not a mapping ([])"),
    ("parts.cells", "c", "parts 'cells' is missing or not a list"),
    ("parts.cells", [1], "parts 'cells' holds something else than cell hashes"),
    ("parts.params", KeyError, "parts 'params' is missing or not a mapping"),
    ("parts.extra", None, "parts 'extra' is missing or not a mapping"),
    ("parts.upstream", {"u": 1}, "parts 'upstream' maps a name to something else than a hash"),
    ("parts.inputs", {"d": None}, "parts 'inputs' maps a name to something else than a hash"),
    ("parts.modules", [], "parts 'modules' is missing or not a mapping"),
    ("parts.dvc", {"d": 2}, "parts 'dvc' maps a name to something else than a hash"),
]


@pytest.mark.parametrize(
    ("path", "value", "why"), CASES, ids=[f"{p}={v!r}"[:30] for p, v, _ in CASES]
)
def test_each_key_of_a_step_record_is_checked(
    tmp_path: Path, path: str, value: Any, why: str
) -> None:
    store = StateStore(tmp_path, "p")
    store.dir.mkdir(parents=True)
    text = json.dumps({"steps": {"a": GOOD, "b": _set(path, value)}})
    store.file.write_text(text)
    with pytest.raises(StoreError) as e:
        store.load()
    assert e.value.message.startswith(f"damaged pipeline state {store.file}: step 'b' {why}; ")
    assert store.file.read_text() == text


def test_what_the_state_writes_passes_and_unknown_keys_are_left_alone(tmp_path: Path) -> None:
    assert step_problem(GOOD) is None
    without_dvc = _set("parts.dvc", KeyError)  # written only for DVC-tracked inputs
    newer = {**GOOD, "resumed_from": "x"}  # a key of a newer version
    store = StateStore(tmp_path, "p")
    store.dir.mkdir(parents=True)
    store.file.write_text(json.dumps({"steps": {"a": without_dvc, "gone": newer}}))
    assert set(store.load()) == {"a", "gone"}
    assert store.load()["a"] == StepState.from_dict(without_dvc)


@pytest.mark.kernel
def test_a_real_pipeline_refuses_a_damaged_state_and_force_starts_over(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b.write(
        tmp_path / "a.ipynb", b.params("x = 3"), b.code("import scrapbook as sb\nsb.glue('y', x)")
    )
    pf = tmp_path / "p.yaml"
    pf.write_text("name: p\nsteps:\n  a: {notebook: a.ipynb, kernel: python3}\n")
    cli = ["pipeline", "run", str(pf), "--runs-dir", str(runs_dir)]
    assert main(cli) == 0
    capsys.readouterr()
    store = StateStore(runs_dir, "p")
    runs = {p.name for p in runs_dir.iterdir() if is_run_id(p.name)}
    for damaged in (
        '{"steps": {"a": {"fingerprint": 5}}}',
        '{"steps": {"zzz": {"fingerprint": "x"}}}',
    ):
        store.file.write_text(damaged)
        for action in ("run", "status"):
            assert main(["pipeline", action, *cli[2:]]) == 2
            err = capsys.readouterr().err
            assert err.startswith(f"mlops-nb: error: damaged pipeline state {store.file}: step ")
            assert err.count("\n") == 1 and "`pipeline run --force`" in err
            assert store.file.read_text() == damaged  # nothing written over it
        assert {p.name for p in runs_dir.iterdir() if is_run_id(p.name)} == runs  # nothing ran
    assert main([*cli, "--force"]) == 0
    assert (store.dir / "state.json.damaged").read_text() == damaged  # kept, not lost
    assert set(store.load()) == {"a"} and store.load()["a"].status == "ok"
    # a step renamed in the file: its old record is read (well-formed) and left unused
    pf.write_text("name: p\nsteps:\n  renamed: {notebook: a.ipynb, kernel: python3}\n")
    capsys.readouterr()
    assert main(cli) == 0 and main(cli) == 0
    assert "renamed  skipped" in capsys.readouterr().out
    assert set(store.load()) == {"a", "renamed"}
