"""The template imports with the garbage collector off and freezes what it imported; a forked
kernel gets the collector back on, with the template's objects out of its reach."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.sweep.api import sweep
from tests import nbbuild as b

pytestmark = pytest.mark.kernel


def test_a_forked_kernel_collects_garbage_but_not_the_templates_objects(
    no_kernels_left: Path, runs_dir: Path
) -> None:
    nb = b.write(
        no_kernels_left / "gc.ipynb",
        b.params("i = 0"),
        b.code(
            "import gc, json, os\n"
            "class Cycle:\n"
            "    pass\n"
            "c = Cycle(); c.me = c; del c\n"
            "print(json.dumps({'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count(),\n"
            "    'collected': gc.collect(),\n"
            "    'forked': '_forkserver.py' in open(f'/proc/{os.getppid()}/cmdline').read()}))"
        ),
    )
    result = sweep(nb, {"i": [1]}, workers=1, runs_dir=runs_dir)
    assert result.ok, result.entries
    out = json.loads(result.runs[0].output_notebook.read_text())
    seen = json.loads("".join(out["cells"][-1]["outputs"][0]["text"]))
    assert seen["forked"] and seen["enabled"]
    assert seen["frozen"] > 10_000  # ipykernel, IPython, scrapbook, pandas ...
    assert seen["collected"] >= 1  # the run's own cycle
