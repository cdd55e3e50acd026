from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mlops_nb import scaffold
from mlops_nb.errors import UsageError
from mlops_nb.main import main

MINE = {"eda", "train", "evaluate", "monitor"}


def test_templates_found_in_checkout_and_listed() -> None:
    names = scaffold.list_templates()
    assert set(names) >= MINE
    assert names["train"] == "Train a classifier"


def test_wheel_layout_is_preferred(tmp_path: Path) -> None:
    wheel = tmp_path / "site" / "mlops_nb" / "templates"
    wheel.mkdir(parents=True)
    shutil.copy(scaffold.checkout_templates_dir() / "eda.ipynb", wheel)
    found = scaffold.templates_dir([wheel, scaffold.checkout_templates_dir()])
    assert found == wheel and list(scaffold.list_templates(found)) == ["eda"]
    with pytest.raises(UsageError, match="no notebook templates found"):
        scaffold.templates_dir([tmp_path / "nowhere"])


def test_new_copies_the_template(tmp_path: Path) -> None:
    assert main(["new", "train", str(tmp_path / "work" / "my_train")]) == 0
    made = tmp_path / "work" / "my_train.ipynb"
    assert made.read_bytes() == (scaffold.templates_dir() / "train.ipynb").read_bytes()
    assert main(["new", "eda", str(tmp_path) + "/"]) == 0
    assert (tmp_path / "eda.ipynb").is_file()


def test_new_refuses_to_overwrite_and_unknown_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "t.ipynb"
    target.write_text("mine")
    assert main(["new", "train", str(target)]) == 2
    assert target.read_text() == "mine"
    assert "--force" in capsys.readouterr().err
    assert main(["new", "train", str(target), "--force"]) == 0
    assert main(["new", "trian", str(tmp_path / "x.ipynb")]) == 2
    assert "Did you mean 'train'?" in capsys.readouterr().err
    assert main(["new", "train"]) == 2


def test_new_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--list"]) == 0
    out = capsys.readouterr().out
    for name in MINE:
        assert name in out
    assert "Monitor a production batch" in out


@pytest.mark.git
def test_init_creates_a_lint_clean_project(git_repo: Path) -> None:
    assert main(["init", str(git_repo)]) == 0
    names = {p.stem for p in (git_repo / "notebooks").glob("*.ipynb")}
    assert names == set(scaffold.list_templates())
    config = yaml.safe_load((git_repo / ".pre-commit-config.yaml").read_text())
    hook = config["repos"][0]["hooks"][0]
    assert config["repos"][0]["repo"] == "local"
    assert (hook["id"], hook["entry"], hook["language"], hook["types"]) == (
        "mlops-nb-hook",
        "mlops-nb-hook",
        "system",
        ["jupyter"],
    )
    manifest = yaml.safe_load((Path(__file__).parents[1] / ".pre-commit-hooks.yaml").read_text())
    assert {h["exclude"] for h in manifest} == {hook["exclude"]}  # recorded runs left out
    assert "notebooks/train.ipynb" in (git_repo / "README.md").read_text()
    (git_repo / "runs" / "x").mkdir(parents=True)
    ignored = subprocess.run(["git", "check-ignore", "runs/x"], cwd=git_repo, check=False)
    assert ignored.returncode == 0
    assert main(["lint", str(git_repo / "notebooks")]) == 0
    # the notebooks are chained into a valid pipeline
    from mlops_nb.pipeline import spec

    pipeline = spec.load(git_repo / "notebooks" / "pipeline.yaml")
    assert pipeline.order() == [
        "eda",
        "train",
        "evaluate",
        "register",
        "shadow",
        "promote",
        "monitor",
        "report",
    ]


def test_init_keeps_existing_files(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "eda.ipynb").write_text("mine")
    (tmp_path / "README.md").write_text("# mine\n")
    (tmp_path / ".gitignore").write_text("*.pyc")
    result = scaffold.init_project(tmp_path)
    assert (tmp_path / "notebooks" / "eda.ipynb").read_text() == "mine"
    assert (tmp_path / "README.md").read_text() == "# mine\n"
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\nruns/\n.ipynb_checkpoints/\n"
    assert tmp_path / "README.md" in result.kept
    again = scaffold.init_project(tmp_path)
    assert again.created == []
    with pytest.raises(UsageError, match="is a file"):
        scaffold.init_project(tmp_path / "README.md")


def test_new_keeps_dots_in_the_name(tmp_path: Path) -> None:
    assert main(["new", "train", str(tmp_path / "exp.v2")]) == 0
    assert (tmp_path / "exp.v2.ipynb").is_file()
    assert not (tmp_path / "exp.ipynb").exists()
