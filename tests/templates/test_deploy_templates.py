"""The deployment templates (score, shadow, canary): files, and real runs on the bundled data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlops_nb.main import main
from mlops_nb.notebook.params import parse_notebook_params
from mlops_nb.registry import api
from tests.templates._execute import ROOT, TEMPLATES, execute

DEPLOY = ["score", "shadow", "canary"]


def _nb(name: str) -> dict[str, Any]:
    nb: dict[str, Any] = json.loads((TEMPLATES / f"{name}.ipynb").read_text(encoding="utf-8"))
    return nb


@pytest.mark.parametrize("name", DEPLOY)
def test_parameters_on_top_with_help_and_bundled_defaults(name: str) -> None:
    nb = _nb(name)
    params = parse_notebook_params(nb)
    assert params.cell_index == 1 and nb["cells"][0]["cell_type"] == "markdown"
    assert "mlops-nb[ml]" in "".join(nb["cells"][0]["source"])
    for spec in params.specs:
        assert spec.help and str(spec.type) != "any", f"{name}: {spec.name}"
    defaults = params.defaults()
    assert defaults["output_dir"] == "." and defaults["upstream"] is None
    assert defaults["reference"] == "builtin:rare_events"
    assert (ROOT / "notebooks" / f"{name}.ipynb").read_bytes() == (
        TEMPLATES / f"{name}.ipynb"
    ).read_bytes()


def test_lint_clean_and_stripped() -> None:
    paths = [str(TEMPLATES / f"{n}.ipynb") for n in [*DEPLOY, "monitor"]]
    assert main(["lint", *paths]) == 0
    assert main(["strip", "--check", *paths]) == 0


@pytest.mark.kernel
@pytest.mark.slow
def test_score_defaults(tmp_path: Path) -> None:
    scraps, out = execute("score", tmp_path)
    assert scraps["n_rows"] == 3242 and scraps["n_schema_violations"] == 0
    assert 0 < scraps["latency_ms_per_row"] < 5 and scraps["peak_memory_mb"] > 50
    assert scraps["f1"] > 0.7
    predictions = pd.read_csv(out / "predictions.csv")
    assert list(predictions.columns) == ["id", "score", "prediction"] and len(predictions) == 3242
    assert predictions["prediction"].mean() == pytest.approx(scraps["positive_rate"])


@pytest.mark.kernel
@pytest.mark.slow
def test_shadow_defaults(tmp_path: Path) -> None:
    scraps, out = execute("shadow", tmp_path, n_boot=300)
    assert scraps["has_champion"] is True
    assert 0.9 < scraps["agreement"] < 1 and scraps["flip_rate"] == pytest.approx(
        1 - scraps["agreement"]
    )
    assert scraps["delta_f1_low"] <= scraps["delta_f1"] <= scraps["delta_f1_high"]
    assert scraps["delta_f1"] == pytest.approx(scraps["challenger_f1"] - scraps["champion_f1"])
    assert 0.5 < scraps["score_correlation"] <= 1
    differ = pd.read_csv(out / "disagreements.csv")
    assert len(differ) == scraps["n_disagreements"] > 0
    assert (differ["champion_pred"] != differ["challenger_pred"]).all()
    assert differ["challenger_loss"].is_monotonic_decreasing


@pytest.fixture(scope="module")
def bad_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(runs folder, run id) of the `train` template fitted on shuffled labels: a bad model."""
    from mlops_nb import ml

    tmp = tmp_path_factory.mktemp("bad-model")
    df = ml.load_dataset("builtin:rare_events")
    df["faulty"] = np.random.default_rng(0).permutation(df["faulty"].to_numpy())
    df.to_csv(tmp / "shuffled.csv", index=False)
    # balanced class weights and the 0.5 threshold on noise: about half the rows called faulty
    scraps, folder = execute(
        "train", tmp, data=str(tmp / "shuffled.csv"), tune_threshold=False, model="logreg"
    )
    assert scraps["f1"] < 0.3 and scraps["accuracy"] < 0.8
    return tmp / "runs", folder.name


@pytest.mark.kernel
@pytest.mark.slow
@pytest.mark.parametrize(
    ("champion", "challenger", "options", "decision"),
    [
        ("fit:logreg", "registry:rare_events@bad", {}, "rollback"),
        ("registry:rare_events@bad", "fit:logreg", {}, "promote"),
        # the same bad challenger on 16 rows: too few to decide anything
        ("fit:logreg", "registry:rare_events@bad", {"batch_size": 16, "batches": 1}, "continue"),
    ],
    ids=["bad-challenger-rolled-back", "better-challenger-promoted", "tiny-sample-continues"],
)
def test_canary_decisions(
    bad_model: tuple[Path, str],
    tmp_path: Path,
    champion: str,
    challenger: str,
    options: dict[str, Any],
    decision: str,
) -> None:
    runs, run_id = bad_model
    api.promote(runs, "rare_events", run_id, ["bad"])
    scraps, out = execute_in(runs, tmp_path, champion=champion, challenger=challenger, **options)
    assert scraps["decision"] == decision
    table = pd.read_csv(out / "canary.csv")
    assert len(table) == scraps["n_batches"] and table["challenger_n"].is_monotonic_increasing
    if decision == "continue":
        assert scraps["challenger_n"] + scraps["champion_n"] == 16
        assert scraps["decided_at_batch"] == -1
    else:
        assert scraps["decided_at_batch"] >= 1  # never on the first small batch
        worse = scraps["challenger_error_rate"] > scraps["champion_error_rate"]
        assert worse == (decision == "rollback")


def execute_in(runs: Path, tmp_path: Path, **params: Any) -> tuple[dict[str, Any], Path]:
    """Run the canary template against an existing runs store (its registry)."""
    import mlops_nb

    run = mlops_nb.run(TEMPLATES / "canary.ipynb", params, runs_dir=runs, cwd=tmp_path)
    assert run.status == "ok", run.error_line()
    return run.scraps, run.path
