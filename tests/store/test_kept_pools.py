"""Runs made from someone else's process pool (``multiprocessing.Pool.map`` over
``mlops_nb.run``) leave the runs index as one file: those workers end with ``os._exit`` or
SIGTERM and never close a kept connection, so they close it after each write, which folds the
WAL (review6 item 7). A sweep's own workers, tidied by their driver, keep theirs."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_nb.store import index
from tests import nbbuild as b

SCRIPT = """
import multiprocessing as mp, sys
import mlops_nb

def go(x):
    return mlops_nb.run(sys.argv[1], params={"x": x}, runs_dir=sys.argv[2]).status

if __name__ == "__main__":
    with mp.get_context(sys.argv[3]).Pool(2) as pool:  # leaving 'with' terminates the workers
        print(pool.map(go, [1, 2, 3]))
"""


@pytest.mark.kernel
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_runs_from_a_users_pool_leave_no_write_ahead_log(tmp_path: Path, method: str) -> None:
    nb = b.write(tmp_path / "nb.ipynb", b.params("x = 0"), b.code("y = x * 2"))
    runs = tmp_path / "runs"
    (tmp_path / "pool.py").write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(tmp_path / "pool.py"), str(nb), str(runs), method],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['ok', 'ok', 'ok']"
    assert sorted(p.name for p in runs.glob("index.sqlite*")) == ["index.sqlite"]


def _report(queue: multiprocessing.Queue, opt_in: bool) -> None:  # type: ignore[type-arg]
    if opt_in:
        index.keep_connections()
    queue.put(index._KEPT.keeps_here())


@pytest.mark.parametrize(("opt_in", "kept"), [(False, False), (True, True)])
def test_a_pool_worker_keeps_its_connection_only_when_its_parent_tidies(
    opt_in: bool, kept: bool
) -> None:
    assert index._KEPT.keeps_here()  # a process of its own (the CLI, a user's script)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_report, args=(queue, opt_in))
    child.start()
    assert queue.get(timeout=30) is kept
    child.join(30)
