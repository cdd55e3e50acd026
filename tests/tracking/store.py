"""A small runs store made with real kernels: standalone runs (ok with an input file and an
artifact, failed, timed out), a plain sweep, and a pipeline invocation holding a step run and a
sweep step (pipeline → sweep → runs). Built once per test session; tests copy it."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import mlops_nb
from mlops_nb.pipeline import engine, spec
from tests import nbbuild as b

TRAIN_PARAMS = (
    'upstream = None\nlr = 0.1\nlabel = "a"\nlayers = [8, 4]\ndata = "data.csv"\noutput_dir = "."'
)
TRAIN_BODY = textwrap.dedent(
    """
    import os, scrapbook as sb
    if lr < 0:
        raise ValueError("lr must be >= 0")
    with open(os.path.join(output_dir, "model.txt"), "w") as f:
        f.write(str(lr))
    sb.glue("f1", 0.5 + lr)
    sb.glue("converged", lr < 0.5)
    sb.glue("note", "lr=" + str(lr))
    sb.glue("n", 3)
    """
)
PIPELINE = """
name: tiny
steps:
  prep:
    notebook: prep.ipynb
  train:
    notebook: train.ipynb
    upstream: [prep]
    grid: {lr: [0.1, 0.3]}
    select: {metric: f1, mode: max}
"""


def build(root: Path) -> Path:
    """Make the notebooks under ``root/project`` and the runs in ``root/project/runs``."""
    project = root / "project"
    project.mkdir(parents=True)
    (project / "data.csv").write_text("x,y\n1,2\n")
    b.write(project / "train.ipynb", b.params(TRAIN_PARAMS), b.code(TRAIN_BODY))
    b.write(
        project / "prep.ipynb",
        b.params("upstream = None\noutput_dir = '.'"),
        b.code("import scrapbook as sb\nsb.glue('rows', 2)"),
    )
    b.write(project / "slow.ipynb", b.params("t = 30"), b.code("import time\ntime.sleep(t)"))
    runs = project / "runs"
    nb = project / "train.ipynb"
    mlops_nb.run(nb, {"lr": 0.2}, runs_dir=runs, name="single")
    mlops_nb.run(nb, {"lr": -1.0}, runs_dir=runs, name="broken")
    mlops_nb.run(project / "slow.ipynb", {}, runs_dir=runs, timeout=1.0)
    mlops_nb.sweep(nb, {"lr": [0.1, 0.4]}, runs_dir=runs, workers=2)
    (project / "pipeline.yaml").write_text(PIPELINE)
    result = engine.run(spec.load(project / "pipeline.yaml"), runs_dir=runs)
    assert result.ok
    return project


def copy(template: Path, dest: Path) -> Path:
    """A private copy of the store (runs folders, index) keeping its layout."""
    project = dest / "project"
    shutil.copytree(template, project, symlinks=True)
    return project


def make_lost(runs: Path, sql_where: str) -> str:
    """Make the run matching ``sql_where`` (an index condition) read as ``lost``: its record says
    ``running`` and names as its owner a process that has exited, as a SIGKILLed driver leaves
    it (``mlops_nb.store.liveness``). The index row is the one the driver's start wrote. Returns
    the run id."""
    import subprocess

    from mlops_nb.store import index, liveness
    from mlops_nb.store import runs as store

    (row,) = index.query_rows(runs, sql_where)
    folder = runs / str(row["id"])
    record = store.read_raw_record(folder)
    driver = subprocess.Popen(["true"])
    driver.wait()
    record.update(liveness.owner(), status="running", ended_at=None, error=None, pid=driver.pid)
    store.write_record(folder, record)
    index.update_run(folder, record)
    return str(row["id"])
