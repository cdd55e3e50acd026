"""A record that never lies (issue 11): status from the kernel's replies, raises-exception, strict
JSON, kernels, values starting with '-', numeric options, cell numbering. Real kernels."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

import mlops_nb
from mlops_nb.errors import UsageError
from mlops_nb.main import main
from mlops_nb.store import index
from mlops_nb.store import runs as store
from tests import nbbuild as b


def strict_load(path: Path) -> Any:
    """RFC 8259: no NaN, Infinity or -Infinity tokens."""

    def refuse(token: str) -> Any:
        raise ValueError(f"{path}: non-JSON token {token}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def only_run(runs_dir: Path) -> Path:
    (folder,) = list(store.iter_run_folders(runs_dir))
    return folder


# --- item 1: an error reply without an error output -------------------------------------------


@pytest.mark.parametrize(
    "failing",
    [
        pytest.param("%definitely_not_a_magic --fast", id="line-magic"),
        pytest.param("%%definitely_not_a_cell_magic\nx = 2", id="cell-magic"),
        pytest.param("%time %definitely_not_a_magic", id="nested-magic"),
    ],
)
def test_error_reply_without_error_output_fails_the_run(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str], failing: str
) -> None:
    nb = b.write(
        tmp_path / "magic.ipynb",
        b.params("x: int = 1"),
        b.code(failing),
        b.code('import scrapbook as sb; sb.glue("after", x)'),
    )
    assert main(["run", str(nb), "--runs-dir", str(runs_dir)]) == 1
    assert "UsageError" in capsys.readouterr().out
    rec = store.read_record(only_run(runs_dir))
    assert rec["status"] == "failed"
    assert rec["error"]["ename"] == "UsageError"
    assert rec["error"]["cell_index"] == 1  # 0-based in the record: the second cell
    assert rec["scraps"] == {}
    assert mlops_nb.Run(only_run(runs_dir)).error_line().endswith("in cell 2")


def test_a_run_recorded_ok_but_stopped_at_an_error_is_never_reused(
    tmp_path: Path, runs_dir: Path
) -> None:
    """A record written by an older version (status ok, error null) of a run that stopped."""
    nb = b.write(
        tmp_path / "stop.ipynb",
        b.params("x: int = 1"),
        b.code("%no_such_magic"),
        b.code("y = x"),
    )
    first = mlops_nb.run(nb, runs_dir=runs_dir)
    assert first.status == "failed"
    legacy = dict(first.record, status="ok", error=None)
    store.write_record(first.path, legacy, final=True)
    index.rebuild(runs_dir)
    assert not store.ran_clean(first.path)
    again = mlops_nb.run(nb, runs_dir=runs_dir, reuse=True)
    assert again.id != first.id  # executed, not reused
    assert again.status == "failed"
    # a sweep resuming does not count it as done either
    result = mlops_nb.sweep(nb, {"x": [1]}, runs_dir=runs_dir, workers=1, progress="quiet")
    assert result.entries[0]["resumed"] is False


def test_sys_exit_zero_is_still_a_clean_stop(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(tmp_path / "exit.ipynb", b.code("import sys\nsys.exit(0)"), b.code("y = 1"))
    assert mlops_nb.run(nb, runs_dir=runs_dir).status == "ok"


# --- item 2: raises-exception -------------------------------------------------------------------


def test_raises_exception_cell_does_not_fail_the_run(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(
        tmp_path / "teach.ipynb",
        b.params("x: int = 1"),
        b.code("1 / 0", tags=["raises-exception"]),
        b.code("%no_such_magic", tags=["raises-exception"]),
        b.code('import scrapbook as sb; sb.glue("after", x)'),
    )
    run = mlops_nb.run(nb, runs_dir=runs_dir)
    assert run.status == "ok", run.error
    assert run.record["scraps"] == {"after": 1}
    # an untagged failing cell after it still fails the run
    nb2 = b.write(
        tmp_path / "teach2.ipynb",
        b.code("1 / 0", tags=["raises-exception"]),
        b.code("raise KeyError('k')"),
    )
    run2 = mlops_nb.run(nb2, runs_dir=runs_dir)
    assert (run2.status, run2.error["ename"], run2.error["cell_index"]) == ("failed", "KeyError", 1)


# --- item 3: IPython syntax in the parameters cell ------------------------------------------------


def test_parameters_with_ipython_syntax_in_strings(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(
        tmp_path / "fmt.ipynb",
        b.params('fmt: str = """\n%d items\n!done\n"""  # report template'),
        b.code('import scrapbook as sb; sb.glue("fmt", fmt)'),
    )
    assert main(["inspect", str(nb)]) == 0
    out = capsys.readouterr().out
    assert "parameters (cell 1)" in out
    assert "report template" in out
    run = mlops_nb.run(nb, runs_dir=runs_dir)
    assert run.params["fmt"] == "\n%d items\n!done\n"
    assert run.record["scraps"]["fmt"] == "\n%d items\n!done\n"
    assert main(["lint", str(nb)]) in (0, 1)
    assert "NB204" not in capsys.readouterr().out


# --- item 4: strict JSON --------------------------------------------------------------------------


def test_non_finite_numbers_everywhere_are_strict_json(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(
        tmp_path / "nan.ipynb",
        b.params("lr: float = 0.1\nlimits: list = [1.0]"),
        b.code(
            "import math, scrapbook as sb\n"
            "sb.glue('n', float('nan')); sb.glue('i', -math.inf); sb.glue('lr', lr)"
        ),
    )
    args = ["run", str(nb), "--runs-dir", str(runs_dir), "-p", "lr", "inf"]
    assert main([*args, "-y", "limits: [.nan, -.inf]", "--json"]) == 0
    printed = capsys.readouterr().out
    json.loads(printed, parse_constant=lambda t: pytest.fail(f"--json printed {t}"))
    folder = only_run(runs_dir)
    for path in folder.iterdir():
        if path.suffix in (".json", ".ipynb"):
            strict_load(path)
    rec = store.read_record(folder)  # decoded back: lossless
    assert rec["params"]["lr"] == math.inf
    assert math.isnan(rec["params"]["limits"][0]) and rec["params"]["limits"][1] == -math.inf
    assert math.isnan(rec["scraps"]["n"]) and rec["scraps"]["i"] == -math.inf
    assert strict_load(folder / "run.json")["params"]["lr"] == {"$numberDouble": "Infinity"}
    meta = strict_load(folder / "output.ipynb")["metadata"]["papermill"]["parameters"]
    assert meta["lr"] == {"$numberDouble": "Infinity"}
    assert main(["show", folder.name, "--runs-dir", str(runs_dir), "--json"]) == 0
    json.loads(capsys.readouterr().out, parse_constant=lambda t: pytest.fail(t))
    assert main(["collect", "--runs-dir", str(runs_dir), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out, parse_constant=lambda t: pytest.fail(t))
    assert rows[0]["params.lr"] == {"$numberDouble": "Infinity"}
    assert rows[0]["scraps.i"] == {"$numberDouble": "-Infinity"}
    assert rows[0]["scraps.n"] == {"$numberDouble": "NaN"}  # a glued NaN is present, not absent
    df = mlops_nb.collect(runs_dir)
    assert df["params.lr"].iloc[0] == math.inf


# --- items 8, 9, 13: kernels, values starting with '-', numeric options -------------------------


def test_no_kernelspec_is_a_usage_error_before_anything_starts(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.notebook(b.params("f: float = 0.0\ns: str = ''"), b.code("y = f"))
    del nb["metadata"]["kernelspec"]
    path = tmp_path / "nokernel.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    for cmd in (["run", str(path)], ["sweep", str(path), "--list", str(tmp_path / "l.yaml")]):
        (tmp_path / "l.yaml").write_text("- {f: 1.0}\n")
        assert main([*cmd, "--runs-dir", str(runs_dir)]) == 2
        err = capsys.readouterr().err
        assert "names no kernel" in err and "-k/--kernel" in err
        assert "Traceback" not in err
    assert not any(store.iter_run_folders(runs_dir))
    bad = ["run", str(path), "--runs-dir", str(runs_dir), "-k", "nope-kernel"]
    assert main(bad) == 2
    assert "no Jupyter kernel named 'nope-kernel'" in capsys.readouterr().err
    # -k works, and values starting with '-' are values (papermill accepts them)
    args = ["run", str(path), "--runs-dir", str(runs_dir), "-k", "python3"]
    assert main([*args, "-p", "f", "-1e-3", "-r", "s", "-abc"]) == 0
    rec = store.read_record(only_run(runs_dir))
    assert (rec["status"], rec["params"], rec["kernel"]) == (
        "ok",
        {"f": -0.001, "s": "-abc"},
        "python3",
    )
    # rerun uses the kernel the run was made with (the notebook still names none)
    assert main(["rerun", rec["id"], "--runs-dir", str(runs_dir)]) == 0


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-p", "f", "-inf"], {"f": -math.inf}),
        (["-p", "s", "-abc"], {"s": "-abc"}),
        (["-r", "s", "-abc", "-p", "f", "-2"], {"s": "-abc", "f": -2.0}),
        (["--parameters", "f", "-1e-3"], {"f": -0.001}),
        (["-r", "s", "--"], {"s": "--"}),
    ],
)
def test_values_starting_with_dash(
    tmp_path: Path, argv: list[str], expected: dict[str, Any]
) -> None:
    from mlops_nb.commands._common import protect_dash_values
    from mlops_nb.main import build_parser
    from mlops_nb.notebook.params import parse_notebook_params
    from mlops_nb.notebook.values import collect_values

    nb = b.notebook(b.params("f: float = 0.0\ns: str = ''"))
    args = build_parser().parse_args(protect_dash_values(["run", "x.ipynb", *argv]))
    assert collect_values(args.param_flags, parse_notebook_params(nb)) == expected


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "NaN"])
def test_timeout_must_be_finite_and_positive(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    nb = b.write(tmp_path / "t.ipynb", b.code("pass"))
    for cmd in ("run", "sweep"):
        extra = ["--grid", str(nb)] if cmd == "sweep" else []
        with pytest.raises(SystemExit) as e:
            main([cmd, str(nb), *extra, "--runs-dir", str(runs_dir), f"--timeout={value}"])
        assert e.value.code == 2
        assert "--timeout" in capsys.readouterr().err
    with pytest.raises(UsageError, match="finite number of seconds"):
        mlops_nb.run(nb, runs_dir=runs_dir, timeout=float(value))
    assert not runs_dir.exists()


# --- item 6: the umask ----------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_every_file_written_gets_the_umask_mode(
    tmp_path: Path, runs_dir: Path, umask: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    nb = b.write(
        tmp_path / "m.ipynb",
        b.params("x: int = 1"),
        b.code("import scrapbook as sb; sb.glue('y', x)"),
    )
    grid = tmp_path / "grid.yaml"
    grid.write_text("x: [1, 2]\n")
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text("steps:\n  a:\n    notebook: m.ipynb\n")
    old = os.umask(umask)
    try:
        assert main(["run", str(nb), "--runs-dir", str(runs_dir)]) == 0
        assert main(["sweep", str(nb), "--grid", str(grid), "--runs-dir", str(runs_dir)]) == 0
        assert main(["pipeline", "run", str(pipeline), "--runs-dir", str(runs_dir)]) == 0
        out = tmp_path / "out"
        out.mkdir()
        assert main(["collect", "--runs-dir", str(runs_dir), "-o", str(out / "c.csv")]) == 0
        assert main(["report", "--runs-dir", str(runs_dir), "-o", str(out / "r.html")]) == 0
        assert main(["reindex", "--runs-dir", str(runs_dir)]) == 0
    finally:
        os.umask(old)
    files = [p for p in [*runs_dir.rglob("*"), *out.iterdir()] if p.is_file()]
    names = {p.name for p in files}
    assert {"run.json", "output.ipynb", "environment.json", "c.csv", "r.html"} <= names
    assert any(p.parent.name == "sweeps" for p in files)
    wrong = {
        str(p): oct(p.stat().st_mode & 0o777)
        for p in files
        if p.stat().st_mode & 0o777 != 0o666 & ~umask
    }
    assert not wrong


# --- item 11: sweep attempts ------------------------------------------------------------------------


def test_sweep_attempts_are_kept_across_invocations(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(
        tmp_path / "s.ipynb",
        b.params("mode: str = 'ok'"),
        b.code("if mode == 'fail':\n    raise ValueError(mode)"),
    )
    first = mlops_nb.sweep(nb, {"mode": ["ok", "fail"]}, runs_dir=runs_dir, progress="quiet")
    a1 = {e["params"]["mode"]: list(e["attempts"]) for e in first.entries}
    assert [len(a1["ok"]), len(a1["fail"])] == [1, 1]
    second = mlops_nb.sweep(nb, {"mode": ["ok", "fail"]}, runs_dir=runs_dir, progress="quiet")
    a2 = {e["params"]["mode"]: e["attempts"] for e in second.entries}
    assert a2["ok"] == a1["ok"]  # done in the first invocation: its attempt is still listed
    assert a2["fail"][0] == a1["fail"][0] and len(a2["fail"]) == 2
    assert second.record["invocations"] == 2


def test_pipeline_does_not_trust_an_ok_state_whose_run_stopped(
    tmp_path: Path, runs_dir: Path
) -> None:
    from mlops_nb.pipeline import engine, spec

    b.write(tmp_path / "a.ipynb", b.params("n: int = 1"), b.code("%no_such_magic"), b.code("m = n"))
    pf = tmp_path / "p.yaml"
    pf.write_text("steps:\n  a: {notebook: a.ipynb, kernel: python3}\n")
    pipeline = spec.load(pf)
    result = engine.run(pipeline, runs_dir=runs_dir)
    assert [o.action for o in result.outcomes] == ["failed"]
    state = runs_dir / "pipelines" / pipeline.name / "state.json"
    data = json.loads(state.read_text())
    data["steps"]["a"]["status"] = "ok"  # what an older version recorded for such a run
    state.write_text(json.dumps(data))
    (plan,) = engine.plan(pipeline, runs_dir)
    assert plan.reasons == ["last run stopped at a kernel error"]
