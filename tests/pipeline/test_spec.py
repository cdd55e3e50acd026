"""Reading a pipeline file: every problem in one ConfigError line list, before anything runs
(no kernels: the files are built in code)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlops_nb.errors import ConfigError
from mlops_nb.pipeline import spec
from tests import nbbuild as b


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    b.write(
        tmp_path / "a.ipynb",
        b.params("x: int = 1\nupstream: dict | None = None"),
        b.code("import scrapbook as sb\nsb.glue('x', x)"),
    )
    return tmp_path


def load(folder: Path, text: str) -> spec.Pipeline:
    path = folder / "pipeline.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return spec.load(path)


STEP = "steps:\n  a: {notebook: a.ipynb}\n"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("- a\n", "a pipeline file is a YAML mapping with a 'steps:' mapping"),
        ("stepz: {}\n" + STEP, "unknown key 'stepz' (did you mean 'steps'?)"),
        ("steps: {}\n", "'steps:' must be a mapping of step name to step"),
        ("steps:\n  a: 3\n", "step 'a': must be a mapping with 'notebook:' (or 'report:')"),
        ("steps:\n  a: {notebok: a.ipynb}\n", "unknown key 'notebok' (did you mean 'notebook'?)"),
        ("steps:\n  a: {notebook: a.ipynb, upstream: 3}\n", "'upstream' must be a list of step names"),
        ("steps:\n  a: {notebook: a.ipynb, params: [1]}\n", "'params' must be a mapping of name: value"),
        ("steps:\n  a: {notebook: a.ipynb, params: {upstream: 1}}\n", "'upstream' is set by the pipeline"),
        ("steps:\n  a: {notebook: a.ipynb, report: {}}\n", "give either 'notebook' or 'report', not both"),
        ("steps:\n  a: {notebook: a.ipynb, gate: {rule: '1 > 0'}}\n", "give either 'notebook' or 'gate', not both"),
        ("steps:\n  a: {params: {}}\n", "missing 'notebook:' (the .ipynb to run, relative to the file)"),
        ("steps:\n  a: {notebook: b.ipynb}\n", "notebook 'b.ipynb' not found"),
        ("steps:\n  a: {notebook: a.ipynb, grid: [1]}\n", "'grid' must map parameter names to lists of values"),
        ("steps:\n  a: {notebook: a.ipynb, grid: {x: [1]}, select: {metric: f1, mode: up}}\n",
         "'select' is {metric: NAME, mode: max|min}"),
        ("steps:\n  a: {notebook: a.ipynb, select: {metric: f1}}\n", "'select' only applies to a step with a 'grid'"),
        ("steps:\n  a: {notebook: a.ipynb, timeout: soon}\n", "'timeout' must be a finite number of seconds > 0"),
        ("steps:\n  a: {notebook: a.ipynb, timeout: true}\n", "'timeout' must be a finite number of seconds > 0"),
        ("steps:\n  a: {notebook: a.ipynb, timeout: -1}\n", "'timeout' must be a finite number of seconds > 0"),
        ("steps:\n  a: {notebook: a.ipynb, timeout: .inf}\n", "'timeout' must be a finite number of seconds > 0"),
        ("steps:\n  a: {notebook: a.ipynb, kernel: ' '}\n", "'kernel' must be a Jupyter kernel name"),
        ("steps:\n  a: {notebook: a.ipynb, upstream: [c]}\n", "step 'a': unknown upstream step 'c'"),
        ("steps:\n  a: {notebook: a.ipynb, upstream: b}\n  b: {notebook: a.ipynb, upstream: a}\n",
         "the steps form a cycle: a -> b -> a"),
        ("name: my pipeline\n" + STEP, "name 'my pipeline' must be a plain folder name"),
        ("workers: 0\n" + STEP, "'workers' must be a whole number >= 1"),
        ("workers: true\n" + STEP, "'workers' must be a whole number >= 1"),
        # review5 item 9: what a sweep step would only find out after running the whole sweep
        ("steps:\n  a: {notebook: a.ipynb, grid: {x: []}, select: {metric: x}}\n",
         "step 'a': grid: parameter 'x' has an empty list of values; give at least one value"),
        ("steps:\n  a: {notebook: a.ipynb, grid: {x: [1]}}\n",
         "step 'a': a grid step needs select: {metric: NAME, mode: max|min} to hand its best"),
        ("steps:\n  a: {notebook: a.ipynb, grid: {x: [1]}, select: {metric: nope, mode: max}}\n",
         "step 'a': select: metric 'nope' is never glued by "),
        ("steps:\n  a: {notebook: a.ipynb, grid: {x: [1]}, select: {metric: ' '}}\n",
         "step 'a': 'select' is {metric: NAME, mode: max|min}"),
        ("steps:\n  a: {notebook: a.ipynb, grid: {x: [1]}, select: {metric: x, mod: min}}\n",
         "step 'a': 'select' is {metric: NAME, mode: max|min}"),
        ("steps:\n  a: {notebook: a.ipynb, show: {x: 1}}\n",
         "step 'a': 'show' must be a list of scrap names"),
        ("steps:\n  a: {notebook: a.ipynb, show: [x, '']}\n",
         "step 'a': 'show' must be a list of scrap names"),
    ],
    ids=["not-mapping", "top-key", "no-steps", "step-not-mapping", "step-key", "upstream-type",
         "params-type", "params-upstream", "notebook-and-report", "notebook-and-gate",
         "no-notebook", "notebook-missing", "grid-type", "select-mode", "select-no-grid",
         "timeout-text", "timeout-bool", "timeout-negative", "timeout-inf", "kernel-blank",
         "unknown-upstream", "cycle", "name", "workers-0", "workers-bool", "grid-empty-axis",
         "grid-no-select", "select-unglued", "select-blank", "select-key", "show-type",
         "show-blank"],
)  # fmt: skip
def test_a_bad_file_is_one_config_error(folder: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(folder, text)
    assert says in e.value.message


def test_no_file_says_which_and_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ConfigError, match=r"no pipeline file \(the default; pass the file's path\)"
    ):
        spec.load()
    with pytest.raises(ConfigError, match=r"x\.yaml: no pipeline file\. Create one"):
        spec.load(tmp_path / "x.yaml")


def test_a_good_file_reads_every_setting(folder: Path) -> None:
    p = load(
        folder,
        """\
        runs_dir: out
        workers: 3
        steps:
          a: {notebook: a.ipynb, params: {x: 2}, timeout: 5, kernel: python3, show: [x]}
          s:
            notebook: a.ipynb
            upstream: a
            grid: {x: 4}
            select: {metric: x}
          r: {report: {title: T}, upstream: [s]}
        """,
    )
    assert (p.name, p.runs_dir, p.workers) == (folder.name, folder / "out", 3)
    a, s, r = p.steps["a"], p.steps["s"], p.steps["r"]
    assert (a.kind, a.timeout, a.kernel, a.show, a.params) == (
        "notebook",
        5.0,
        "python3",
        ("x",),
        {"x": 2},
    )
    assert (s.kind, s.upstream, s.grid, s.select) == (
        "sweep",
        ("a",),
        {"x": [4]},
        {"metric": "x", "mode": "max"},
    )
    assert (r.kind, r.notebook, r.report) == ("report", None, {"title": "T"})
    assert p.levels() == [["a"], ["s"], ["r"]] and p.downstream("a") == {"s", "r"}


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        (
            "{notebook: a.ipynb, grid: {x: [1, 2]}, select: {metric: nope, mode: max}}",
            "select: metric 'nope' is never glued by {nb}; it glues x",
        ),
        (
            "{notebook: a.ipynb, grid: {x: []}, select: {metric: x}}",
            "grid: parameter 'x' has an empty list of values; give at least one value, or leave "
            "the parameter out",
        ),
    ],
    ids=["select-unglued", "grid-empty-axis"],
)
def test_a_sweep_step_that_cannot_pick_its_best_is_refused_before_anything_runs(
    folder: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str], step: str, problem: str
) -> None:
    """review5 item 9: `pipeline run` ran the whole sweep, then failed (exit 1)."""
    from mlops_nb.main import main

    path = folder / "v.yaml"
    path.write_text(f"name: v\nsteps:\n  a: {step}\n")
    assert main(["pipeline", "run", str(path), "--runs-dir", str(runs_dir)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"mlops-nb: error: {path}: invalid pipeline:",
        "  step 'a': " + problem.format(nb=folder / "a.ipynb"),
    ]
    assert not runs_dir.exists()
