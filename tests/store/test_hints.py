"""Commands named in messages can be pasted as printed: they name the store and the pipeline file
whenever those differ from what the command picks by itself."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from mlops_nb.pipeline import hints as pipeline_hints
from mlops_nb.pipeline import spec
from mlops_nb.store import hints
from tests import nbbuild as b


@pytest.mark.parametrize(
    ("env", "runs_dir", "expected"),
    [
        (None, None, "mlops-nb approve m"),
        (None, "runs", "mlops-nb approve m"),
        (None, "./runs/", "mlops-nb approve m"),
        (None, "ph/runs", "mlops-nb approve m --runs-dir ph/runs"),
        ("ph/runs", "ph/runs", "mlops-nb approve m"),  # $MLOPS_NB_RUNS_DIR picks it already
        ("ph/runs", "runs", "mlops-nb approve m --runs-dir runs"),
        (None, "my runs", "mlops-nb approve m --runs-dir 'my runs'"),
    ],
)
def test_the_runs_dir_is_named_unless_it_is_the_default(
    env: str | None,
    runs_dir: str | None,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    if env is None:
        monkeypatch.delenv("MLOPS_NB_RUNS_DIR")
    else:
        monkeypatch.setenv("MLOPS_NB_RUNS_DIR", env)
    assert hints.command("approve", "m", runs_dir=runs_dir) == expected


def test_an_absolute_runs_dir_that_is_the_default_is_not_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_NB_RUNS_DIR")
    assert hints.command("collect", runs_dir=tmp_path / "runs") == "mlops-nb collect"
    assert shlex.split(hints.command("collect", runs_dir=tmp_path / "a b")) == [
        "mlops-nb",
        "collect",
        "--runs-dir",
        str(tmp_path / "a b"),
    ]


def _pipeline(path: Path, runs_dir: str | None = None) -> spec.Pipeline:
    b.write(path.parent / "a.ipynb", b.params("n: int = 1"), b.code("pass"))
    top = f"runs_dir: {runs_dir}\n" if runs_dir else ""
    path.write_text(f"{top}steps:\n  a: {{notebook: a.ipynb}}\n")
    return spec.load(path)


@pytest.mark.parametrize(
    ("file", "in_file", "runs_dir", "expected"),
    [
        ("notebooks/pipeline.yaml", None, "runs", "mlops-nb pipeline run"),
        ("px/pipeline.yaml", None, "runs", "mlops-nb pipeline run px/pipeline.yaml"),
        (
            "px/pipeline.yaml",
            None,
            "px/runs",
            "mlops-nb pipeline run px/pipeline.yaml --runs-dir px/runs",
        ),
        # the file's own `runs_dir:` is what `pipeline run FILE` uses without --runs-dir
        ("px/pipeline.yaml", "../store", "store", "mlops-nb pipeline run px/pipeline.yaml"),
        (
            "notebooks/pipeline.yaml",
            "../store",
            "runs",
            "mlops-nb pipeline run --runs-dir runs",
        ),
    ],
)
def test_pipeline_commands_name_the_file_and_the_store_when_not_the_defaults(
    file: str,
    in_file: str | None,
    runs_dir: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_NB_RUNS_DIR")
    (tmp_path / file).parent.mkdir(parents=True)
    pipeline = _pipeline(Path(file), in_file)
    assert pipeline_hints.command(pipeline, "run", runs_dir=Path(runs_dir)) == expected


def test_mark_done_names_the_step_before_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLOPS_NB_RUNS_DIR")
    pipeline = _pipeline(tmp_path / "p.yaml")
    got = pipeline_hints.command(pipeline, "mark-done", "a", runs_dir=Path("r"))
    assert got == f"mlops-nb pipeline mark-done a {tmp_path / 'p.yaml'} --runs-dir r"


def test_the_listing_an_unknown_name_suggests_names_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_nb.errors import UsageError
    from mlops_nb.store.names import check_named
    from tests.results.factory import make_run

    runs = tmp_path / "elsewhere runs"
    make_run(runs, notebook="nb/eda.ipynb", pipeline={"name": "etl", "step": "a", "run_id": "p"})
    with pytest.raises(UsageError) as e:
        check_named(runs, notebook="nosuch")
    listing = shlex.join(["mlops-nb", "collect", "--columns", "id", "notebook", "--runs-dir"])
    assert e.value.message.endswith(f"(list them: {listing} {shlex.quote(str(runs))}).")
    with pytest.raises(UsageError) as e:
        check_named(runs, pipeline="nosuch")
    assert e.value.message.endswith(f"(list them: ls {shlex.quote(str(runs / 'pipelines'))}).")
    monkeypatch.setenv("MLOPS_NB_RUNS_DIR", str(runs))  # the default store: no --runs-dir
    with pytest.raises(UsageError) as e:
        check_named(runs, notebook="nosuch")
    assert e.value.message.endswith("(list them: mlops-nb collect --columns id notebook).")
