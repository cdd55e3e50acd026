"""``--runs-dir`` naming a regular file is one line, exit 2, for every command that takes it
(review4 item 12: `registry list` and `pipeline status` read it as an empty store, exit 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.main import main
from mlops_nb.store.place import resolve_runs_dir
from tests import nbbuild as b

COMMANDS = [
    "collect",
    "export mlflow latest",
    "report -o r.html",
    "show latest",
    "diff a b",
    "rerun latest",
    "env export latest",
    "env diff a b",
    "registry list",
    "registry show m",
    "promote m v1 --alias x",
    "approve m",
    "reject m",
    "rollback m --alias x",
    "reindex",
    "pipeline status p.yaml",
    "pipeline run p.yaml",
    "pipeline mark-done a p.yaml",
    "run t.ipynb",
    "sweep t.ipynb --grid g.yaml",
]


@pytest.fixture
def afile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    b.write(tmp_path / "t.ipynb", b.params("x = 1"), b.code("y = x"))
    (tmp_path / "p.yaml").write_text("name: tp\nsteps:\n  a: {notebook: t.ipynb}\n")
    (tmp_path / "g.yaml").write_text("x: [1, 2]\n")
    (tmp_path / "afile").write_text("not a store\n")
    return tmp_path / "afile"


@pytest.mark.parametrize("argv", COMMANDS)
def test_a_file_as_the_store_is_one_line_exit_2(
    afile: Path, argv: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(p.name for p in afile.parent.iterdir())
    assert main([*argv.split(), "--runs-dir", "afile"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "mlops-nb: error: no runs folder at afile (it is a file): give the store with "
        "--runs-dir or MLOPS_NB_RUNS_DIR.\n"
    )
    assert afile.read_text() == "not a store\n"
    assert sorted(p.name for p in afile.parent.iterdir()) == before  # nothing written


def test_the_pipeline_files_runs_dir_and_the_environment_are_checked_alike(
    afile: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (afile.parent / "q.yaml").write_text(
        "name: tq\nruns_dir: afile\nsteps:\n  a: {notebook: t.ipynb}\n"
    )
    assert main(["pipeline", "status", "q.yaml"]) == 2
    assert "no runs folder at afile (it is a file)" in capsys.readouterr().err
    monkeypatch.setenv("MLOPS_NB_RUNS_DIR", "afile")
    assert main(["registry", "list"]) == 2
    assert "no runs folder at afile (it is a file)" in capsys.readouterr().err
    with pytest.raises(
        StoreError, match=r"no runs folder at afile \(it is a file\): .* runs_dir= or"
    ):
        resolve_runs_dir(None)  # Python: the keyword
    assert main(["collect", "--runs-dir", "nothing"]) == 2
    assert "no runs folder at nothing (it does not exist): give" in capsys.readouterr().err
