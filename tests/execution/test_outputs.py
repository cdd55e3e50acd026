"""`run --output-dir / --metrics-file / --upstream`: stable paths for DVC and Kubeflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.main import main
from tests import nbbuild as b

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_new_kernels")]

WRITER = """
from pathlib import Path
import scrapbook as sb
out = Path(output_dir)
(out / "model.txt").write_text(f"model {alpha}")
(out / "sub").mkdir(exist_ok=True)
(out / "sub" / "b.txt").write_text("b")
seen = sorted((upstream or {}).items())
sb.glue("alpha2", alpha * 2)
sb.glue("upstream_names", ",".join(k for k, _ in seen))
sb.glue("upstream_text", "|".join((Path(v) / "model.txt").read_text() for _, v in seen))
"""


@pytest.fixture
def writer(tmp_path: Path) -> Path:
    return b.write(
        tmp_path / "writer.ipynb",
        b.params('alpha = 1.0\noutput_dir = "."\nupstream: dict | None = None'),
        b.code(WRITER),
    )


def _record(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(capsys.readouterr().out)
    return record


def test_output_dir_artifacts_metrics_and_upstream(
    writer: Path, tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "out" / "first", tmp_path / "out" / "second"
    argv = ["run", str(writer), "--runs-dir", str(runs_dir), "--json", "-p", "alpha", "2"]
    assert main([*argv, "--output-dir", str(first)]) == 0
    rec = _record(capsys)
    assert rec["output_dir"] == str(first.resolve())
    assert set(rec["artifacts"]) == {"model.txt", "sub/b.txt"}
    assert rec["artifacts"]["model.txt"]["size"] == len("model 2.0")
    metrics = tmp_path / "metrics" / "m.json"
    code = main(
        [
            *argv,
            "--output-dir",
            str(second),
            "--metrics-file",
            str(metrics),
            "--upstream",
            f"first={first}",
            "--upstream",
            f"again={first}",
        ]
    )
    assert code == 0
    rec = _record(capsys)
    assert rec["params"]["upstream"] == {
        "first": str(first.resolve()),
        "again": str(first.resolve()),
    }
    assert rec["scraps"]["upstream_names"] == "again,first"
    assert rec["scraps"]["upstream_text"] == "model 2.0|model 2.0"
    data = json.loads(metrics.read_text())
    assert data == rec["scraps"]
    assert data["alpha2"] == 4.0


def test_explicit_output_dir_param_records_artifacts(
    writer: Path, tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "old.txt").write_text("written before the run")
    argv = ["run", str(writer), "--runs-dir", str(runs_dir), "--json"]
    assert main([*argv, "-p", "output_dir", "elsewhere"]) == 0
    rec = _record(capsys)
    assert rec["output_dir"] == str((tmp_path / "elsewhere").resolve())
    assert "model.txt" in rec["artifacts"]
    # a file the run did not write is not its artifact (unless touched within the clock slack)
    assert set(rec["artifacts"]) >= {"model.txt", "sub/b.txt"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--upstream", "nope"], "expected NAME=PATH"),
        (["--upstream", "=x"], "expected NAME=PATH"),
        (["--upstream", "a=missing-folder"], "no such folder"),
        (["--output-dir", "o", "-p", "output_dir", "x"], "give only --output-dir"),
        (["--metrics-file", "NOTEBOOK/m.json"], "cannot write there"),  # under a file
        (["--metrics-file", "."], "is a folder"),
    ],
    ids=["no-equals", "no-name", "missing-folder", "both", "metrics-unwritable", "metrics-folder"],
)
def test_bad_flags_are_usage_errors(
    writer: Path,
    runs_dir: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    extra = [a.replace("NOTEBOOK", str(writer)) for a in extra]
    assert main(["run", str(writer), "--runs-dir", str(runs_dir), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_flags_need_the_parameter(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(tmp_path / "plain.ipynb", b.params("a = 1"), b.code("a"))
    for flag, value in (("--output-dir", "o"), ("--upstream", f"x={tmp_path}")):
        assert main(["run", str(nb), "--runs-dir", str(runs_dir), flag, value]) == 2
        err = capsys.readouterr().err
        assert "declares no" in err
        assert flag in err


def test_reuse_and_sweeps_keep_an_explicit_output_dir_apart(
    writer: Path, tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    argv = ["run", str(writer), "--runs-dir", str(runs_dir), "--json", "--reuse"]
    assert main([*argv, "--output-dir", str(first)]) == 0
    one = _record(capsys)
    assert main([*argv, "--output-dir", str(first)]) == 0
    assert _record(capsys)["id"] == one["id"]  # same work, same folder: reused
    assert main([*argv, "--output-dir", str(second)]) == 0
    two = _record(capsys)
    assert two["id"] != one["id"]  # the artifacts must land in the folder asked for
    assert (second / "model.txt").read_text() == "model 1.0"
    assert two["key"] != one["key"]
