from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from mlops_nb import collect
from mlops_nb.errors import UsageError
from mlops_nb.main import main
from tests.results.factory import make_run


@pytest.fixture
def store(runs_dir: Path) -> Path:
    make_run(
        runs_dir,
        params={"model": "rf", "C": 1, "n": 10},
        scraps={"f1": 0.9, "ok": True},
        sweep_id="sw-aaa",
    )
    make_run(
        runs_dir,
        params={"model": "lr", "C": 0.5, "n": 20},
        scraps={"f1": 0.7, "ok": False},
        sweep_id="sw-aaa",
    )
    make_run(
        runs_dir,
        params={"model": "rf", "C": 2, "n": 30},
        scraps={"f1": 0.85, "note": "hi"},
        sweep_id="sw-bbb",
        pipeline={"name": "churn", "step": "train", "run_id": "p1"},
    )
    make_run(runs_dir, params={"model": "rf"}, status="failed", notebook="nb/eval.ipynb")
    return runs_dir


def test_one_row_per_run_with_documented_columns(store: Path) -> None:
    df = collect(store)
    assert len(df) == 4
    assert list(df.columns) == [
        "id",
        "name",
        "notebook",
        "status",
        "started",
        "duration",
        "sweep",
        "params.C",
        "params.model",
        "params.n",
        "scraps.f1",
        "scraps.note",
        "scraps.ok",
        "error",
    ]
    assert df["error"].tolist()[-1] == "ValueError: boom (cell 2)"


def test_pandas3_nullable_dtypes(store: Path) -> None:
    df = collect(store)
    assert df["params.C"].dtype == "Float64"  # 1, 0.5, 2 mixed int/float
    assert df["params.n"].dtype == "Int64"
    assert df["scraps.f1"].dtype == "Float64"
    assert df["scraps.ok"].dtype == "boolean"
    for col in ("id", "notebook", "status", "params.model", "scraps.note", "sweep", "name"):
        assert isinstance(df[col].dtype, pd.StringDtype), col
        assert df[col].dtype.na_value is pd.NA, col
    assert df["params.n"].iloc[3] is pd.NA
    assert df["scraps.f1"].iloc[3] is pd.NA
    assert df["sweep"].iloc[3] is pd.NA
    assert str(df["started"].dtype).startswith("datetime64")
    assert df["started"].dt.tz is not None
    assert df["duration"].dtype == "Float64"


def test_mixed_and_nested_values_become_json_strings(runs_dir: Path) -> None:
    make_run(runs_dir, params={"v": 1, "layers": [1, 2]})
    make_run(runs_dir, params={"v": "a", "layers": [3]})
    df = collect(runs_dir)
    assert df["params.v"].tolist() == ["1", "a"]
    assert df["params.layers"].tolist() == ["[1, 2]", "[3]"]


def test_a_pipeline_is_named_whole_not_by_a_prefix(store: Path) -> None:
    # a name no run has is refused (store.names.check_named), not an empty frame
    with pytest.raises(UsageError, match=r"no pipeline 'chur' in .*; its pipelines: churn "):
        collect(store, pipeline="chur")


@pytest.mark.parametrize(
    ("kwargs", "expected_n"),
    [
        pytest.param({"notebook": "train.ipynb"}, [10, 20, 30], id="notebook-path"),
        pytest.param({"notebook": "eval"}, [None], id="notebook-stem"),
        pytest.param({"notebook": "nb/eval.ipynb"}, [None], id="notebook-relpath"),
        pytest.param({"sweep": "sw-aaa"}, [10, 20], id="sweep"),
        pytest.param({"sweep": "sw-b"}, [30], id="sweep-prefix"),
        pytest.param({"status": "failed"}, [None], id="status"),
        pytest.param({"status": "ok,failed"}, [10, 20, 30, None], id="status-list"),
        pytest.param({"where": "f1 > 0.8"}, [10, 30], id="where-bare"),
        pytest.param({"where": "scraps.f1 > 0.8 and model == 'rf'"}, [10, 30], id="where-prefixed"),
        pytest.param({"where": "params_n >= 20"}, [20, 30], id="where-underscored"),
        pytest.param({"where": "`params.model` == 'lr'"}, [20], id="where-backticks"),
        pytest.param({"where": "model == 'params.n'"}, [], id="where-string-literal-untouched"),
        pytest.param({"where": "status == 'ok' and ok"}, [10], id="where-boolean"),
        pytest.param({"sort": "f1"}, [20, 30, 10, None], id="sort"),
        pytest.param({"sort": "f1", "desc": True}, [10, 30, 20, None], id="sort-desc"),
        pytest.param({"sort": "n", "desc": True, "limit": 2}, [30, 20], id="limit"),
        pytest.param({"status": "ok", "where": "n < 30", "sweep": "sw-a"}, [10, 20], id="combined"),
        pytest.param({"pipeline": "churn"}, [30], id="pipeline"),
    ],
)
def test_filters(store: Path, kwargs: dict[str, object], expected_n: list[int | None]) -> None:
    df = collect(store, **kwargs)  # type: ignore[arg-type]
    # Columns come from the matching runs only: the failed run has no 'n'.
    n = df["params.n"].tolist() if "params.n" in df else [pd.NA] * len(df)
    assert [None if v is pd.NA else v for v in n] == expected_n


def test_columns(store: Path) -> None:
    df = collect(store, columns=["id", "f1", "params.model"])
    assert list(df.columns) == ["id", "scraps.f1", "params.model"]
    assert list(collect(store, columns="model,f1").columns) == ["params.model", "scraps.f1"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"where": "nope > 1"}, "no column 'nope'"),
        ({"where": "f1 >"}, "^where='f1 >': not a valid"),  # Python: the keyword, not --where
        ({"where": "f1 + 1"}, "not a condition"),
        ({"sort": "nope"}, "no column 'nope'"),
        ({"columns": ["f2"]}, "no column 'f2'"),
        ({"status": "done"}, "unknown status done"),
    ],
)
def test_bad_queries_are_usage_errors(store: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        collect(store, **kwargs)  # type: ignore[arg-type]


def test_ambiguous_bare_name(runs_dir: Path) -> None:
    make_run(runs_dir, params={"lr": 0.1}, scraps={"lr": 0.05})
    with pytest.raises(UsageError, match=r"ambiguous: say params\.lr or scraps\.lr"):
        collect(runs_dir, where="lr > 0")
    assert len(collect(runs_dir, where="params.lr > scraps.lr")) == 1


def test_empty_store(runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs_dir.mkdir()
    assert collect(runs_dir).empty
    assert main(["collect", "--runs-dir", str(runs_dir)]) == 0
    assert "no runs" in capsys.readouterr().out


def test_missing_store_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collect", "--runs-dir", str(tmp_path / "none")]) == 2
    assert "no runs folder" in capsys.readouterr().err


def cli(store: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["collect", "--runs-dir", str(store), *args]) == 0
    return capsys.readouterr().out


def test_format_table_fits_the_terminal(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = cli(store, capsys)
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines[:-1])
    assert lines[0].split()[:3] == ["id", "notebook", "status"]  # empty 'name' dropped
    assert "more columns" in lines[-1]
    assert "--columns" in lines[-1]
    monkeypatch.setenv("COLUMNS", "400")
    out = cli(store, capsys, "--status", "ok", "--columns", "model", "f1")
    assert out.splitlines()[0].split() == ["params.model", "scraps.f1"]
    assert out.splitlines()[2].split() == ["rf", "0.9"]


def test_format_csv(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = cli(store, capsys, "--format", "csv", "--sort", "f1", "--desc", "--columns", "model,f1,n")
    assert out.splitlines() == [
        "params.model,scraps.f1,params.n",
        "rf,0.9,10",
        "rf,0.85,30",
        "lr,0.7,20",
        "rf,,",
    ]


def test_format_json(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = json.loads(cli(store, capsys, "--format", "json"))
    assert len(rows) == 4
    assert rows[0]["params.n"] == 10
    assert rows[0]["scraps.ok"] is True
    assert "scraps.f1" not in rows[3]  # absent, not None: the failed run glued no f1
    assert rows[3]["status"] == "failed"
    assert re.fullmatch(r"2026-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", rows[0]["started"])


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "table"])
def test_output_file(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    out = tmp_path / f"runs.{fmt}"
    assert cli(store, capsys, "--format", fmt, "-o", str(out), "--where", "f1 > 0.8") == ""
    assert out.is_file()
    if fmt == "parquet":
        df = pd.read_parquet(out)
        assert df["params.n"].tolist() == [10, 30]
        assert str(df["params.n"].dtype) == "Int64"
    if fmt == "csv":
        assert pd.read_csv(out)["params.n"].tolist() == [10, 30]


def test_parquet_needs_a_file(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collect", "--runs-dir", str(store), "--format", "parquet"]) == 2
    assert "-o FILE" in capsys.readouterr().err


def test_collect_never_reads_run_folders_when_the_index_is_fresh(store: Path) -> None:
    collect(store)
    for folder in store.iterdir():
        if folder.is_dir():
            (folder / "run.json").write_text("{broken", encoding="utf-8")
    assert len(collect(store)) == 4


@pytest.mark.parametrize("fmt", ["csv", "table", "parquet", "json"])
def test_output_into_a_missing_folder_makes_it(
    store: Path, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """As `pipeline export -o`, `env export -o` and `new` do (review3 item 13)."""
    target = tmp_path / "no" / "such" / f"out.{fmt}"
    assert main(["collect", "--runs-dir", str(store), "--format", fmt, "-o", str(target)]) == 0
    assert target.stat().st_size > 0
    assert f"4 runs written to {target}" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["csv", "table", "parquet"])
def test_output_where_no_folder_can_be_is_a_clear_error(
    store: Path, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "such" / f"out.{fmt}"
    assert main(["collect", "--runs-dir", str(store), "--format", fmt, "-o", str(target)]) == 2
    err = capsys.readouterr().err.splitlines()[-1]  # after the notice that the index was built
    assert err == (
        f"mlops-nb: error: cannot write {target}: {tmp_path / 'file'} is a file, not a folder."
    )


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_output_that_names_a_folder_is_refused(
    store: Path, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for target in (f"{tmp_path / 'new'}/", str(tmp_path)):
        assert main(["collect", "--runs-dir", str(store), "--format", fmt, "-o", target]) == 2
        err = capsys.readouterr().err.splitlines()[-1]
        assert err.startswith(f"mlops-nb: error: {target} is a folder: give the file to write")
    assert not (tmp_path / "new").exists()
