"""Real runs to promote: made once per session in real kernels, copied into each test's store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import nbbuild as b

PARAMS = 'content = "a"  # written into model.joblib\nfail = False\nwrite_model = True\noutput_dir = "."\n'
BODY = (
    "from pathlib import Path\n"
    "if write_model:\n"
    "    Path(output_dir, 'model.joblib').write_text(content)\n"
    "import scrapbook as sb\n"
    "sb.glue('f1', 0.5)\n"
    "sb.glue('pr_auc', float('nan'))  # undefined metrics are NaN\n"
    "assert not fail, 'asked to fail'\n"
)


@pytest.fixture(scope="session")
def made_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(a runs folder, {label: run id}): ok runs a, b, c; a failed run; an ok run without model."""
    import mlops_nb

    root = tmp_path_factory.mktemp("registry-runs")
    nb = b.write(root / "train.ipynb", b.params(PARAMS), b.code(BODY))
    runs = root / "runs"
    ids: dict[str, str] = {}
    cases: dict[str, dict[str, object]] = {
        "a": {"content": "a"},
        "b": {"content": "b"},
        "c": {"content": "c"},
        "failed": {"fail": True},
        "nomodel": {"write_model": False},
    }
    for label, params in cases.items():
        run = mlops_nb.run(nb, params, runs_dir=runs, name=label)
        assert run.status == ("failed" if label == "failed" else "ok"), run.error_line()
        ids[label] = run.id
    return runs, ids


@pytest.fixture
def store(made_runs: tuple[Path, dict[str, str]], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    runs, ids = made_runs
    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    return copy, ids
