"""Kernels forked from a fork server: fresh and isolated, stoppable, and a dead server recovers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mlops_nb.errors import ForkServerError
from mlops_nb.execution.provenance import installed_packages
from mlops_nb.kernels import fork_source, forking
from mlops_nb.main import main
from mlops_nb.store import runs as store
from mlops_nb.sweep.api import sweep
from tests import nbbuild as b

pytestmark = pytest.mark.kernel

PROBE = b.notebook(
    b.params("i = 0"),
    b.code(
        "import json, os, random, sys\n"
        "import numpy as np\n"
        "parent = open(f'/proc/{os.getppid()}/cmdline').read().replace('\\0', ' ')\n"
        "print(json.dumps({'pid': os.getpid(), 'cwd': os.getcwd(),\n"
        "    'forked': '_forkserver.py' in parent,\n"
        "    'np': float(np.random.rand()), 'py': random.random(),\n"
        "    'leak': getattr(json, 'probe', None), 'mine': 'mine' in globals(),\n"
        "    'env': os.environ.get('MLOPS_NB_PROBE'), 'argv0': sys.argv[0],\n"
        "    'numpy_preloaded': 'numpy' in sys.modules}))"
    ),
    # state a later run would see if anything leaked between kernels
    b.code("json.probe = i\nmine = i"),
)


def outputs(result: object) -> list[dict[str, object]]:
    found = []
    for run in result.runs:  # type: ignore[attr-defined]
        out = json.loads(run.output_notebook.read_text())
        code = [c for c in out["cells"] if c["cell_type"] == "code"]
        found.append(json.loads("".join(code[-2]["outputs"][0]["text"])))
    return found


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_forked_kernels_are_fresh_processes_with_nothing_shared(
    no_kernels_left: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch, executor: str
) -> None:
    monkeypatch.setenv("MLOPS_NB_PROBE", "from-the-driver")
    nb = b.write(no_kernels_left / "probe.ipynb", *PROBE["cells"])
    result = sweep(
        nb, {"i": [1, 2, 3, 4]}, workers=2, executor=executor, preload="numpy", runs_dir=runs_dir
    )
    assert result.ok, result.entries
    seen = outputs(result)
    assert all(s["forked"] for s in seen)
    assert all(s["numpy_preloaded"] for s in seen)
    assert len({s["pid"] for s in seen}) == 4
    assert {s["cwd"] for s in seen} == {str(no_kernels_left.resolve())}
    assert {s["env"] for s in seen} == {"from-the-driver"}
    assert all(str(s["argv0"]).endswith("ipykernel_launcher.py") for s in seen)
    assert {s["leak"] for s in seen} == {None}  # module state set by a run stays in that run
    assert {s["mine"] for s in seen} == {False}
    # every kernel draws its own random numbers (numpy is reseeded after the fork)
    assert len({s["np"] for s in seen}) == 4
    assert len({s["py"] for s in seen}) == 4
    # the CPU a kernel used is measured in its own process
    for run in result.runs:
        assert run.record["resources"]["cpu_seconds"] > 0


def test_no_fork_starts_every_kernel_as_a_new_process(
    no_kernels_left: Path, runs_dir: Path
) -> None:
    nb = b.write(no_kernels_left / "probe.ipynb", *PROBE["cells"])
    result = sweep(nb, {"i": [1, 2]}, workers=2, fork=False, runs_dir=runs_dir)
    assert result.ok
    assert not any(s["forked"] for s in outputs(result))
    assert result.record["options"]["fork"] is False


def test_cli_no_fork_flag(
    no_kernels_left: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(no_kernels_left / "probe.ipynb", *PROBE["cells"])
    grid = no_kernels_left / "grid.yaml"
    grid.write_text("i: [7]\n")
    code = main(["sweep", str(nb), "--grid", str(grid), "--no-fork", "--quiet", "--json"])
    assert code == 0
    record = json.loads(capsys.readouterr().out)
    assert record["options"]["fork"] is False
    run = store.read_record(runs_dir / record["runs"][0]["run_id"])
    assert run["status"] == "ok"


def test_a_killed_fork_server_is_replaced_and_the_run_retried(
    no_kernels_left: Path, runs_dir: Path
) -> None:
    marker = no_kernels_left / "killed"
    nb = b.write(
        no_kernels_left / "kill.ipynb",
        b.params("i = 0\nmarker = ''"),
        b.code(
            "import os, signal, time\n"
            "if i == 1 and not os.path.exists(marker):\n"
            "    open(marker, 'w').close()\n"
            "    os.kill(os.getppid(), signal.SIGKILL)  # the fork server\n"
            "    time.sleep(30)\n"
            "print(i)"
        ),
    )
    result = sweep(
        nb,
        {"i": [1, 2, 3], "marker": [str(marker)]},
        executor="serial",
        retries=1,
        timeout=60,
        runs_dir=runs_dir,
    )
    assert marker.exists()
    tried = [
        (
            e["index"],
            e["status"],
            [store.read_record(runs_dir / a).get("error") for a in e["attempts"]],
        )
        for e in result.entries
    ]
    assert result.ok, tried  # each set: its status and every attempt's error
    first = store.read_record(runs_dir / result.entries[0]["attempts"][0])
    assert first["status"] == "failed"
    assert first["error"]["ename"] == "DeadKernelError"
    assert len(result.entries[0]["attempts"]) == 2


def test_a_fork_server_that_cannot_start_falls_back_to_new_processes(
    no_kernels_left: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = no_kernels_left / "shadow"
    (broken / "ipykernel").mkdir(parents=True)
    (broken / "ipykernel" / "__init__.py").write_text("raise ImportError('shadowed for a test')\n")
    monkeypatch.setenv("PYTHONPATH", str(broken))
    server = forking.ForkServer(sys.executable)
    try:
        with pytest.raises(ForkServerError, match="shadowed for a test"):
            server.wait_ready()
    finally:
        server.close()
    assert server.proc.returncode is not None
    monkeypatch.setattr(fork_source, "_FORK_FAILED", set())  # forget failures of other tests
    nb = b.write(no_kernels_left / "probe.ipynb", *PROBE["cells"])
    # The kernels themselves must import the real ipykernel: shadow it for the server only.
    monkeypatch.setattr(forking, "SCRIPT", _shadowing_script(no_kernels_left, broken), raising=True)
    monkeypatch.delenv("PYTHONPATH")
    result = sweep(nb, {"i": [1, 2]}, executor="serial", runs_dir=runs_dir)
    assert result.ok
    assert not any(s["forked"] for s in outputs(result))


def _shadowing_script(folder: Path, shadow: Path) -> Path:
    """The real fork server script, run with ``shadow`` first on sys.path."""
    script = folder / "_forkserver.py"
    text = Path(forking.__file__).with_name("_forkserver.py").read_text()
    script.write_text(f"import sys\nsys.path.insert(0, {str(shadow)!r})\n" + text)
    return script


def test_fast_config_matches_what_traitlets_parses() -> None:
    from ipykernel.kernelapp import IPKernelApp

    fast_config = _server_module().fast_config
    args = [
        "-f",
        "/tmp/k.json",
        "--HistoryManager.hist_file=:memory:",
        "--IPKernelApp.parent_handle=7",
    ]
    parsed = IPKernelApp()  # type: ignore[no-untyped-call]  # traitlets is untyped
    parsed.parse_command_line(args)
    fast = IPKernelApp()  # type: ignore[no-untyped-call]
    fast.update_config(fast_config(args))
    for app in (parsed, fast):
        assert app.connection_file == "/tmp/k.json"
        assert app.parent_handle == 7
    assert fast.config.HistoryManager.hist_file == parsed.config.HistoryManager.hist_file
    # anything else is left to traitlets
    assert fast_config(["--matplotlib=inline"]) is None
    assert fast_config(["-f"]) is None
    assert fast_config(["--debug"]) is None


def _server_module() -> ModuleType:
    import importlib.util

    spec = importlib.util.spec_from_file_location("forkserver", forking.SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_installed_packages_read_from_folder_names_match_the_metadata() -> None:
    import re
    from importlib import metadata

    expected: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            expected.setdefault(re.sub(r"[-_.]+", "-", name).lower(), dist.version)
    installed_packages.cache_clear()
    assert installed_packages() == dict(sorted(expected.items()))
    assert "ipykernel" in installed_packages()


def test_fork_command_only_for_plain_ipykernel_specs() -> None:
    class Spec:
        def __init__(self, argv: list[str], metadata: dict[str, object] | None = None) -> None:
            self.argv, self.metadata = argv, metadata or {}

    plain = ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    # "python" means this environment's Python (as jupyter_client reads it), not PATH's
    assert fork_source.fork_command(Spec(plain)) == (sys.executable, [])
    assert fork_source.fork_command(Spec([*plain, "--debug"])) == (sys.executable, ["--debug"])
    other = ["/opt/py/bin/python3.9", *plain[1:]]
    assert fork_source.fork_command(Spec(other)) == ("/opt/py/bin/python3.9", [])
    assert fork_source.fork_command(Spec(["R", "--slave", "-f", "{connection_file}"])) is None
    assert fork_source.fork_command(Spec([*plain, "--x={resource_dir}"])) is None
    custom = Spec(plain, {"kernel_provisioner": {"provisioner_name": "other"}})
    assert fork_source.fork_command(custom) is None
    # variables Python reads when it starts (PYTHONPATH ...) would not reach a forked kernel
    with_env = Spec(plain)
    with_env.env = {"PYTHONPATH": "/opt/lib"}  # type: ignore[attr-defined]
    assert fork_source.fork_command(with_env) is None
    assert os.path.exists(forking.SCRIPT)


def test_cli_forks_without_the_environment_activated(no_kernels_left: Path, runs_dir: Path) -> None:
    """The kernel spec says "python": that is this environment's Python (as jupyter_client reads
    it), even when PATH finds another one first."""
    import subprocess

    nb = b.write(no_kernels_left / "probe.ipynb", *PROBE["cells"])
    grid = no_kernels_left / "grid.yaml"
    grid.write_text("i: [1, 2]\n")
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "mlops_nb", "sweep", str(nb), "--grid", str(grid), "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "cannot fork" not in done.stderr
    for folder in store.iter_run_folders(runs_dir):
        out = json.loads((folder / store.OUTPUT).read_text())
        printed = "".join(out["cells"][-2]["outputs"][0]["text"])
        assert json.loads(printed)["forked"] is True


def test_the_notebooks_own_modules_are_imported_by_each_run_not_the_template(
    no_kernels_left: Path, runs_dir: Path
) -> None:
    """State a module creates at import (here random generators) must differ between runs: the
    notebook's own modules are never preloaded into the template, even with --preload auto."""
    (no_kernels_left / "helpers.py").write_text(
        "import os, random\nimport numpy as np\n"
        "IMPORTED_IN = os.getpid()\nRNG = np.random.default_rng()\nPYRNG = random.Random()\n"
    )
    nb = b.write(
        no_kernels_left / "local.ipynb",
        b.params("i = 0"),
        b.code(
            "import os, sys, json, helpers\n"
            "print(json.dumps([helpers.IMPORTED_IN == os.getpid(), 'numpy' in sys.modules,\n"
            "    helpers.RNG.random(), helpers.PYRNG.random()]))"
        ),
    )
    result = sweep(nb, {"i": [1, 2, 3]}, executor="serial", preload="auto", runs_dir=runs_dir)
    assert result.ok, result.entries
    seen = []
    for run in result.runs:
        out = json.loads(run.output_notebook.read_text())
        seen.append(json.loads("".join(out["cells"][-1]["outputs"][0]["text"])))
    assert all(own for own, _, _, _ in seen)  # imported by the kernel itself
    assert all(np for _, np, _, _ in seen)  # numpy (not the notebook's) was preloaded
    assert len({r for _, _, r, _ in seen}) == 3
    assert len({r for _, _, _, r in seen}) == 3
    assert fork_source.template_modules(["helpers", "numpy"], no_kernels_left) == ("numpy",)


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_parallel_sweeps_share_one_server_and_the_first_done_keeps_it_for_the_other(
    no_kernels_left: Path, runs_dir: Path, executor: str
) -> None:
    """Sweeps in parallel threads of one process (an application, a notebook) share the fork
    server of their recipe: the one that ends first must not take the other's kernels down."""
    from concurrent.futures import ThreadPoolExecutor

    for name, secs in (("quick", 0.1), ("slow", 3.0)):
        b.write(
            no_kernels_left / f"{name}.ipynb",
            b.params("i = 0"),
            b.code(f"import time\ntime.sleep({secs})\nprint(i)"),
        )

    def go(name: str) -> object:
        nb = no_kernels_left / f"{name}.ipynb"
        return sweep(nb, {"i": [1, 2]}, workers=2, executor=executor, runs_dir=runs_dir)

    with ThreadPoolExecutor(2) as pool:
        quick, slow = pool.map(go, ["quick", "slow"])
    assert quick.ok, quick.entries  # type: ignore[attr-defined]
    assert slow.ok, slow.entries  # type: ignore[attr-defined]


def test_a_bad_request_is_refused_and_the_server_keeps_serving() -> None:
    import socket

    server = forking.ForkServer(sys.executable)
    try:
        server.wait_ready()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(server.address)
            sock.sendall(b"[]\nnot json\n")
            replies = b""
            while replies.count(b"\n") < 2:
                replies += sock.recv(4096)
        assert [json.loads(r) for r in replies.splitlines()] == [
            {"error": "not a kernel request"},
            {"error": "not a kernel request"},
        ]
        assert server.alive()
    finally:
        server.close()
    assert not server.alive()
    assert not os.path.exists(server.address)
