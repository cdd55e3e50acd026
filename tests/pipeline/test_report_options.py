"""A report step's options are checked when the pipeline file is read (issue 16), not when
the step runs after its upstream steps."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_nb.errors import ConfigError
from mlops_nb.pipeline import spec
from mlops_nb.pipeline.report_options import REPORT_OPTIONS
from mlops_nb.pipeline.report_step import REPORT_IMPORTS
from mlops_nb.report.build import build_report
from tests.results.factory import make_run


def write(tmp_path: Path, report: str) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"name: p\nsteps:\n  rep:\n    report: {report}\n", encoding="utf-8")
    return path


def test_the_options_are_build_reports_keywords() -> None:
    # filter= takes a RunFilter object; a pipeline file gives the same filters as its keywords
    keywords = set(inspect.signature(build_report).parameters) - {"runs_dir", "current", "filter"}
    assert set(REPORT_OPTIONS) == keywords


@pytest.mark.parametrize(
    ("report", "says"),
    [
        ("{titel: x}", "unknown report option 'titel' (did you mean 'title'?)"),
        ("{ascending: 'yes'}", "report option 'ascending' must be true or false, got 'yes'"),
        ("{metrics: [f1, 3]}", "report option 'metrics' must be a string or a list of names"),
        ("{sort: [f1]}", "report option 'sort' must be a string, got ['f1']"),
        ("{output: 3}", "report option 'output' must be a string, got 3"),
        ('"just a string"', "'report' must be a mapping of options (e.g. {output: report.html})"),
        ("[output, r.html]", "'report' must be a mapping of options"),
        ("3", "'report' must be a mapping of options (e.g. {output: report.html}), got 3"),
        ("{asc: true}", "unknown report option 'asc' (did you mean 'ascending'?)"),
        (
            "{where: 'f1 >'}",
            "report option 'where': 'f1 >': not a valid filter expression (invalid syntax)",
        ),
        ("{where: 'f1.x()'}", "report option 'where': 'f1.x()': a function call is not allowed"),
        ("{where: '__import__(1)'}", "report option 'where': '__import__(1)'"),
        ("{status: NOSUCH}", "report option 'status': unknown status NOSUCH; choose from running"),
        ("{status: [ok, done]}", "report option 'status' must be a string, got ['ok', 'done']"),
        ("{status: 'ok,done'}", "report option 'status': unknown status done; choose from"),
        ("{sweep: ''}", "report option 'sweep': '' names nothing; give a sweep id"),
        ("{where: ' '}", "report option 'where': ' ' names nothing; give a filter expression"),
        ("{status: 'ok,'}", "report option 'status': 'ok,' names an empty status; give"),
        ("{pipeline: ''}", "or leave it out for the step's default (this pipeline's runs)"),
        ("{sort: ''}", "report option 'sort': '' is empty; give a value or leave the option out"),
        ("{output: ' '}", "report option 'output': ' ' is empty; give a value"),
        ("{metrics: 'f1,'}", "report option 'metrics': 'f1,' is empty; give a value"),
    ],
    ids=[
        "unknown",
        "bool",
        "metrics-list",
        "sort-list",
        "output",
        "string",
        "list",
        "number",
        "asc",
        "where-syntax",
        "where-call",
        "where-name",
        "status",
        "status-list",
        "status-comma",
        "sweep-empty",
        "where-blank",
        "status-trailing-comma",
        "pipeline-empty",
        "sort-empty",
        "output-blank",
        "metrics-trailing-comma",
    ],
)
def test_bad_options_are_a_config_error_when_read(tmp_path: Path, report: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        spec.load(write(tmp_path, report))
    assert says in e.value.message and "step 'rep'" in e.value.message


def test_good_options_load(tmp_path: Path) -> None:
    report = "{output: r.html, title: T, sort: f1, ascending: true, metrics: [f1], where: null}"
    step = spec.load(write(tmp_path, report)).steps["rep"]
    assert step.kind == "report" and step.report is not None
    assert step.report["metrics"] == ["f1"] and step.report["where"] is None


def test_report_left_empty_is_a_report_with_the_defaults(tmp_path: Path) -> None:
    """``report:`` with nothing after it (YAML null) is no notebook step missing its notebook."""
    step = spec.load(write(tmp_path, "")).steps["rep"]
    assert step.kind == "report" and step.report == {} and step.notebook is None
    assert spec.load(write(tmp_path, "{where: 'f1 > 0.5 and C in [1, 2]', status: ok}"))


def test_a_bad_option_stops_the_pipeline_before_any_step_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlops_nb.main import main
    from tests import nbbuild as b

    nb = b.notebook(b.params("x = 1"), b.code("y = x"))
    (tmp_path / "a.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "name: p\nsteps:\n  a:\n    notebook: a.ipynb\n"
        "  rep:\n    upstream: [a]\n    report: {where: 'f1 >', status: done}\n",
        encoding="utf-8",
    )
    runs = tmp_path / "runs"
    assert main(["pipeline", "run", str(path), "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err
    assert (
        "step 'rep': report option 'where'" in err and "step 'rep': report option 'status'" in err
    )
    assert "Traceback" not in err
    assert not runs.exists() or not [p for p in runs.iterdir() if p.name.startswith("20")]


def test_the_report_kind_warms_what_building_a_report_imports(tmp_path: Path) -> None:
    """``prepare`` imports REPORT_IMPORTS ahead: each is imported by building a report."""
    code = (
        "import sys\nfrom mlops_nb.report.build import build_report\n"
        f"build_report({str(tmp_path / 'runs')!r}, output={str(tmp_path / 'r.html')!r})\n"
        f"print(sorted(m for m in {REPORT_IMPORTS!r} if m not in sys.modules))\n"
    )
    for lr in (0.1, 0.2, 0.3):
        make_run(tmp_path / "runs", params={"lr": lr}, scraps={"f1": lr * 2}, sweep_id="s1")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
