"""``registry:MODEL@ALIAS`` parameter values: resolved before the kernel, kept in the record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.registry import api
from tests import nbbuild as b

pytestmark = [pytest.mark.kernel]

Store = tuple[Path, dict[str, str]]


def _scorer(tmp_path: Path) -> Path:
    return b.write(
        tmp_path / "score.ipynb",
        b.params('model_dir = ""  # a run folder\n'),
        b.code(
            "import scrapbook as sb\nfrom pathlib import Path\n"
            "sb.glue('content', Path(model_dir, 'model.joblib').read_text() if model_dir else '')\n"
        ),
    )


def _run(capsys: pytest.CaptureFixture[str], runs: Path, nb: Path, value: str) -> tuple[int, str]:
    code = main(["run", str(nb), "-p", "model_dir", value, "--runs-dir", str(runs), "--json"])
    got = capsys.readouterr()
    return code, got.out if code == 0 else got.err


def test_resolved_before_the_kernel_and_recorded(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["live"])
    api.promote(runs, "m", ids["b"], ["live"])
    code, out = _run(capsys, runs, _scorer(tmp_path), "registry:m@live")
    assert code == 0, out
    rec = json.loads(out)
    assert rec["scraps"]["content"] == "b"
    assert Path(rec["params"]["model_dir"]) == (runs / ids["b"]).resolve()
    assert rec["registry"]["model_dir"] == {
        "ref": "registry:m@live",
        "model": "m",
        "alias": "live",
        "version": 2,
        "run_id": ids["b"],
        "artifact": "model.joblib",
        "sha256": api.load(runs, "m")["versions"][1]["sha256"],
    }
    # lineage goes through the registry into the training run
    assert main(["show", rec["id"], "--lineage", "--runs-dir", str(runs)]) == 0
    lineage = capsys.readouterr().out
    assert "model: model_dir=m@live v2" in lineage and ids["b"] in lineage


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("registry:m@ghost", "has no alias 'ghost'"),
        ("registry:nope@live", "unknown model 'nope'"),
        ("registry:m", "is not a registry reference"),
        ("registry:m", "or registry:MODEL@vN for version N"),
        ("registry:m@v9", "model 'm' has no version 9 (its one version is v1)"),
        ("registry:m@v0", "model 'm' has no version 0"),
        ("registry:m@latest", "'latest' is not supported in a registry reference; pin a version"),
        ("registry:m@V1", "invalid alias 'V1'"),
        # `?` is for a model or alias not there yet; a version the model lacks is a typo
        ("registry:m@v9?", "model 'm' has no version 9 (its one version is v1)"),
        # one way to write a version: v01 and other scripts' digits are not a second name for v1
        ("registry:m@v01", "'registry:m@v01': 'v01' is not a version number as written: write v1"),
        ("registry:m@v001?", "'v001' is not a version number as written: write v1."),
        ("registry:m@v\u0661", "is not a version number as written: write v1."),
    ],
)
def test_unknown_model_or_alias_is_exit_2_before_any_run(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["live"])
    before = sorted(p.name for p in runs.iterdir())
    code, err = _run(capsys, runs, _scorer(tmp_path), value)
    assert code == 2 and message in err and "parameter model_dir" in err
    assert sorted(p.name for p in runs.iterdir()) == before  # no run folder was made


def test_changed_artifact_is_refused(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["live"])
    (runs / ids["a"] / "model.joblib").write_text("tampered")
    code, err = _run(capsys, runs, _scorer(tmp_path), "registry:m@live")
    assert code == 2 and "sha256 differs" in err


def test_optional_reference_is_empty_while_unset(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, _ = store
    code, out = _run(capsys, runs, _scorer(tmp_path), "registry:m@champion?")
    assert code == 0, out
    rec = json.loads(out)
    assert rec["params"]["model_dir"] == "" and rec["scraps"]["content"] == ""
    assert rec["registry"]["model_dir"]["version"] is None


def test_a_version_pins_the_reference(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``registry:MODEL@vN`` reads version N wherever the aliases point (MLflow: models:/M/N)."""
    from mlops_nb.registry.refs import pinned

    runs, ids = store
    api.promote(runs, "m", ids["a"], ["live"])
    api.promote(runs, "m", ids["b"], ["live"])
    code, out = _run(capsys, runs, _scorer(tmp_path), "registry:m@v1")
    assert code == 0, out
    rec = json.loads(out)
    assert rec["scraps"]["content"] == "a"
    assert rec["registry"]["model_dir"]["version"] == 1
    assert rec["registry"]["model_dir"]["run_id"] == ids["a"]
    assert rec["registry"]["model_dir"]["alias"] == "v1"
    assert main(["show", rec["id"], "--lineage", "--runs-dir", str(runs)]) == 0
    lineage = capsys.readouterr().out
    assert "model: model_dir=m@v1  sha256:" in lineage  # the version once (it said `m@v1 v1`)
    # a pipeline step reading a pinned version does not go stale when an alias moves
    values = {"a": "registry:m@v1", "b": "registry:m@v7?", "c": "registry:m@live"}
    values |= {"d": "registry:other@v7?"}
    assert pinned(values, runs) == {
        "a": "registry:m@v1 (v1)",
        "b": "registry:m@v7? (no version 7)",  # `pipeline status` says what the run will say
        "c": "registry:m@live (v2)",
        "d": "registry:other@v7? (unset)",
    }
    code, out = _run(capsys, runs, _scorer(tmp_path), "registry:other@v7?")  # no model yet
    assert code == 0 and json.loads(out)["params"]["model_dir"] == ""
