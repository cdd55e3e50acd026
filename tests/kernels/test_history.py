"""A run's kernel keeps IPython's history in memory, as nbclient asks (``ipython_hist_file``):
``%history`` works within the run, and nothing is written to the user's history database. A
forked kernel once lost the first extra argument of its command line, which was that one (or a
kernel spec's own)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mlops_nb.kernels.manager import forked_kernel_args
from mlops_nb.sweep.api import sweep
from tests import nbbuild as b

pytestmark = pytest.mark.kernel

PROBE = b.notebook(
    b.params("i = 0"),
    b.code("first = 'a cell the history holds'"),
    b.code(
        "import json, os\n"
        "ip = get_ipython()\n"
        "hist = [src for _, _, src in ip.history_manager.get_range(output=False)]\n"
        "print(json.dumps({'file': str(ip.history_manager.hist_file), 'hist': hist,\n"
        "    'log': ip.config.Application.get('log_level'), 'autocall': ip.autocall,\n"
        "    'forked': '_forkserver.py' in open(f'/proc/{os.getppid()}/cmdline').read()}))"
    ),
)


def _probes(result: object) -> list[dict[str, object]]:
    found = []
    for run in result.runs:  # type: ignore[attr-defined]
        out = json.loads(run.output_notebook.read_text())
        found.append(json.loads("".join(out["cells"][-1]["outputs"][0]["text"])))
    return found


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "started"])
def test_history_stays_in_memory_and_holds_the_runs_cells(
    no_kernels_left: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch, fork: bool
) -> None:
    ipython_dir = no_kernels_left / "ipython"
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    nb = b.write(no_kernels_left / "probe.ipynb", *PROBE["cells"])
    result = sweep(nb, {"i": [1, 2]}, workers=2, fork=fork, runs_dir=runs_dir)
    assert result.ok, result.entries
    for seen in _probes(result):
        assert seen["forked"] is fork
        assert seen["file"] == ":memory:"
        assert "first = 'a cell the history holds'" in seen["hist"]  # type: ignore[operator]
    assert not list(ipython_dir.rglob("history.sqlite"))


def test_every_extra_argument_of_a_kernel_spec_reaches_a_forked_kernel(
    no_kernels_left: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = no_kernels_left / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    extras = ["--InteractiveShell.autocall=1", "--Application.log_level=ERROR"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv + extras, "display_name": "Python 3", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(no_kernels_left / "jupyter"))
    nb = b.write(no_kernels_left / "probe.ipynb", *PROBE["cells"])
    result = sweep(nb, {"i": [1]}, workers=1, runs_dir=runs_dir)
    assert result.ok, result.entries
    (seen,) = _probes(result)
    assert seen["forked"] is True
    assert (seen["autocall"], seen["log"], seen["file"]) == (1, "ERROR", ":memory:")


def test_forked_kernel_args_drop_only_the_connection_file() -> None:
    cmd = [sys.executable, "_kernel.py", "--H=1", "-f", "/c.json", "--A.b=1", "--C.d=2"]
    assert forked_kernel_args(cmd) == ["--H=1", "--A.b=1", "--C.d=2"]
