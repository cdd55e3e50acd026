"""A pool worker keeps its next kernel warming while the sweep has sets left to hand out, and
starts none after the sweep's last set: a kernel started for nobody takes CPU from the last runs.

Kernels are counted by an IPython startup file, which every kernel (forked or started) runs as its
shell comes up."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.sweep.api import sweep
from tests import nbbuild as b

pytestmark = pytest.mark.kernel


def _counting_ipython_dir(root: Path, log: Path) -> Path:
    startup = root / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-count.py").write_text(
        f"import os\nwith open({str(log)!r}, 'a') as f:\n    f.write(f'{{os.getpid()}}\\n')\n",
        encoding="utf-8",
    )
    return root / "ipython"


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "started"])
def test_one_worker_starts_one_kernel_a_set_and_none_after_the_last(
    no_kernels_left: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch, fork: bool
) -> None:
    log = no_kernels_left / "kernels.log"
    monkeypatch.setenv("IPYTHONDIR", str(_counting_ipython_dir(no_kernels_left, log)))
    nb = b.write(no_kernels_left / "nb.ipynb", b.params("i = 0"), b.code("j = i"))
    result = sweep(nb, {"i": [1, 2, 3]}, workers=1, fork=fork, runs_dir=runs_dir)
    assert result.ok, result.entries
    # each set ran on a kernel of its own, warmed while the set before it ran
    assert len(set(log.read_text().split())) == 3


def test_a_retried_last_set_still_gets_a_kernel(
    no_kernels_left: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = no_kernels_left / "kernels.log"
    monkeypatch.setenv("IPYTHONDIR", str(_counting_ipython_dir(no_kernels_left, log)))
    flag = no_kernels_left / "died-once"
    nb = b.write(
        no_kernels_left / "nb.ipynb",
        b.params("i = 0"),
        b.code(
            "import os, pathlib\n"
            f"flag = pathlib.Path({str(flag)!r})\n"
            "if i == 2 and not flag.exists():\n"
            "    flag.touch()\n"
            "    os._exit(1)  # the kernel dies during the sweep's last set"
        ),
    )
    result = sweep(nb, {"i": [1, 2]}, workers=1, retries=1, runs_dir=runs_dir)
    assert result.ok, result.entries
    assert len(set(log.read_text().split())) == 3  # two sets, one of them run twice
