"""A report step's options are checked when the pipeline file is read (issue 16), not when
the step runs after its upstream steps."""

from __future__ import annotations

import inspect
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
    ],
    ids=["unknown", "bool", "metrics-list", "sort-list", "output"],
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
