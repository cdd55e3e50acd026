"""``show --lineage``'s lines: upstream runs (recursively, each once), gate decisions, registry
models, input data and bundled data, and what is missing, from run records written here."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from mlops_nb.results.lineage import lineage_lines
from mlops_nb.store import gates
from mlops_nb.store import runs as store
from tests.results.factory import make_run


def with_record(folder: Path, **changes: object) -> dict[str, object]:
    rec = {**store.read_raw_record(folder), **changes}
    store.write_record(folder, rec, final=True)
    return rec


def test_lineage_walks_upstream_runs_gates_models_and_data(runs_dir: Path) -> None:
    prep = make_run(runs_dir, inputs={"data/raw.csv": {"sha256": "ab" * 32, "size": 12}})
    with_record(prep, params={"source": "builtin:iris"}, mlops_nb_version="0.1.0")
    model = make_run(runs_dir, pipeline={"name": "p", "step": "train"})
    with_record(model, params={"upstream": {"prep": str(prep)}})
    gate = runs_dir / "pipelines" / "p" / "gates" / "g1"
    gate.mkdir(parents=True)
    (gate / gates.GATE_FILE).write_text(
        json.dumps(
            {"id": "g1", "rule": "f1 > 0.8", "decision": "promote", "passed": True}
            | {"approval": "none", "action": None, "change": None}
        )
    )
    registry = {
        "champion": {
            "model": "churn",
            "alias": "champion",
            "version": 3,
            "sha256": "cd" * 32,
            "run_id": model.name,
        },
        "unset": {"ref": "registry:churn@next", "version": None},
        "gone": {"model": "churn", "alias": "old", "version": 1, "sha256": "ef", "run_id": "r0"},
    }
    top = make_run(runs_dir, name="score")
    params = {
        "upstream": {"train": str(model), "gate": str(gate), "lost": str(runs_dir / "nothing")},
        "champion": str(model),
        "unset": None,
        "gone": str(runs_dir / "no-such-run"),
    }
    rec = with_record(top, params=params, registry=registry)
    lines = lineage_lines(SimpleNamespace(record=rec, path=top))
    text = "\n".join(lines)
    assert lines[0] == "lineage:" and lines[1].startswith(f"  {top.name}  train.ipynb  code:")
    assert f"    {model.name} [train]  train.ipynb" in text
    assert f"      {prep.name}  train.ipynb" in text
    assert f"data: data/raw.csv  sha256:{'ab' * 32}  12 B" in text
    assert "data: source=builtin:iris  (bundled, mlops-nb 0.1.0)" in text
    assert "g1 [gate]  gate: f1 > 0.8  -> promote" in text
    assert f"lost: {runs_dir / 'nothing'} (run folder missing)" in text
    assert f"model: champion=churn@champion v3  sha256:{'cd' * 32}" in text
    assert "model: unset=registry:churn@next (unset)" in text
    assert "gone: run r0 (run folder missing)" in text
    assert text.count(f"{model.name} [train]") == 2  # reached twice, walked once
    assert text.count(prep.name) == 1


def test_an_unreadable_gate_decision(runs_dir: Path) -> None:
    gate = runs_dir / "g"
    gate.mkdir(parents=True)
    (gate / gates.GATE_FILE).write_text("[not a decision]")
    top = make_run(runs_dir)
    rec = with_record(top, params={"upstream": {"gate": str(gate)}})
    assert "g [gate]  gate: None  -> decision unreadable" in "\n".join(
        lineage_lines(SimpleNamespace(record=rec, path=top))
    )
    assert gates.read_decision(None) == {} and gates.read_decision(runs_dir / "none") == {}
