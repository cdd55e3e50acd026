"""`mlops-nb run` / `mlops_nb.run` against real kernels on small notebooks."""

from __future__ import annotations

import inspect
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

import mlops_nb
from mlops_nb.errors import UsageError
from mlops_nb.execution.api import RunFailed
from mlops_nb.main import main
from tests import nbbuild as b

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_new_kernels")]

RECORD_KEYS = {
    "id",
    "name",
    "notebook",
    "params",
    "status",
    "started_at",
    "ended_at",
    "duration_s",
    "error",
    "scraps",
    "artifacts",
    "inputs",
    "git",
    "environment",
    "resources",
    "key",
    "sweep_id",
    "pipeline",
}


@pytest.fixture
def nb(tmp_path: Path) -> Path:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    return b.write(
        tmp_path / "train.ipynb",
        b.markdown("# Train"),
        b.params(
            "alpha: float = 0.5  # rate\nmodel: str = 'lr'\ndata: str = 'data.csv'\n"
            "output_dir: str = '.'"
        ),
        b.code(
            "import pandas as pd\nimport psutil\nimport scrapbook as sb\n"
            "df = pd.read_csv(data)\n"
            "sb.glue('score', alpha * 2)\nsb.glue('model', model)\nsb.glue('ok', True)\n"
            "sb.glue('sizes', [1, 2])\nsb.glue('cfg', {'k': 'v'})\nsb.glue('frame', df)\n"
            "conns = psutil.Process().net_connections('all')\n"
            "tcp = [c for c in conns if c.status == 'LISTEN' and c.type == 1]\n"
            "sb.glue('tcp_off_loopback', len([c for c in tcp if c.laddr.ip not in ('127.0.0.1', '::1')]))\n"
            "sb.glue('ipc_sockets', len([c for c in conns if isinstance(c.laddr, str) and c.laddr]))"
        ),
        b.code("open(output_dir + '/model.txt', 'w').write(model)"),
    )


def test_success_records_everything(nb: Path, runs_dir: Path) -> None:
    run = mlops_nb.run(nb, {"alpha": 2}, runs_dir=runs_dir, name="first")
    assert run.status == "ok", run.error
    rec = json.loads((run.path / "run.json").read_text())
    assert rec.keys() >= RECORD_KEYS
    assert run.path.parent == runs_dir
    assert run.path.name == rec["id"] and rec["id"].endswith("-first")
    assert rec["params"]["alpha"] == 2.0 and isinstance(rec["params"]["alpha"], float)
    assert rec["params"]["output_dir"] == str(run.path.resolve())
    # the kernel's channels are Unix sockets: nothing listens beyond loopback
    # (ipykernel's own IOPub pipe for forked subprocesses binds 127.0.0.1 only)
    assert rec["scraps"]["tcp_off_loopback"] == 0
    assert rec["scraps"]["ipc_sockets"] >= 5
    assert {k: rec["scraps"][k] for k in ("score", "model", "ok")} == {
        "score": 4.0,
        "model": "lr",
        "ok": True,
    }
    assert rec["error"] is None and rec["duration_s"] > 0
    assert rec["artifacts"]["model.txt"]["size"] == 2
    assert rec["inputs"]["data.csv"]["size"] == 8
    assert rec["resources"]["peak_rss_bytes"] > 10_000_000
    assert rec["resources"]["cpu_seconds"] > 0
    assert rec["environment"]["python"].startswith("3.")
    assert rec["environment"]["packages"]["papermill"]
    assert json.loads((run.path / "environment.json").read_text())["pandas"]
    assert len(rec["key"]) == 64 and len(rec["notebook"]["code_sha256"]) == 64
    assert rec["git"] is None  # tmp_path is not in a repository
    # all glued values come back with their types
    assert run.scraps["sizes"] == [1, 2] and run.scraps["cfg"] == {"k": "v"}
    assert isinstance(run.scraps["frame"], pd.DataFrame)
    assert run.scraps["frame"].to_dict("list") == {"a": [1], "b": [2]}
    out = json.loads(run.output_notebook.read_text())
    tags = [c["metadata"].get("tags") for c in out["cells"]]
    assert ["injected-parameters"] in tags
    assert not (run.path / ".output.partial.ipynb").exists()


def test_git_provenance(git_repo: Path, runs_dir: Path) -> None:
    nb = b.write(git_repo / "n.ipynb", b.code("x = 1"))
    subprocess.run(["git", "add", "."], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=git_repo, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=git_repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    rec = mlops_nb.run(nb, runs_dir=runs_dir).record
    assert rec["git"]["commit"] == head
    assert rec["git"]["branch"] == "main"
    assert rec["git"]["dirty"] is False
    (git_repo / "n.ipynb").write_text((git_repo / "n.ipynb").read_text().replace("x = 1", "x = 2"))
    assert mlops_nb.run(nb, runs_dir=runs_dir).record["git"]["dirty"] is True


def test_exception_in_middle_cell(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(
        tmp_path / "bad.ipynb",
        b.params("n = 1"),
        b.code("print('before')"),
        b.markdown("## boom"),
        b.code("raise ValueError('bad value ' + str(n))"),
        b.code("print('never')"),
    )
    run = mlops_nb.run(nb, runs_dir=runs_dir)
    assert run.status == "failed"
    assert run.error["ename"] == "ValueError"
    assert run.error["evalue"] == "bad value 1"
    assert run.error["cell_index"] == 3  # index in the user's notebook (injected cell not counted)
    assert any("bad value" in line for line in run.error["traceback"])
    cells = json.loads(run.output_notebook.read_text())["cells"]
    assert "".join(cells[2]["outputs"][0]["text"]) == "before\n"  # outputs so far are kept
    assert cells[5]["outputs"] == [] and cells[5]["execution_count"] is None


def test_kernel_death(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(tmp_path / "die.ipynb", b.code("x = 1"), b.code("import os\nos._exit(1)"))
    run = mlops_nb.run(nb, runs_dir=runs_dir)
    assert run.status == "failed"
    assert run.error["ename"] == "DeadKernelError"
    assert run.error["cell_index"] == 1
    assert run.output_notebook.exists()


def test_timeout(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(
        tmp_path / "slow.ipynb", b.code("print('start')"), b.code("import time\ntime.sleep(60)")
    )
    t0 = time.monotonic()
    # 5 s: room for the first cell on a loaded machine; the second cell would take 60 s
    run = mlops_nb.run(nb, runs_dir=runs_dir, timeout=5)
    assert time.monotonic() - t0 < 50
    assert run.status == "timeout"
    assert run.error["cell_index"] == 1
    cells = json.loads(run.output_notebook.read_text())["cells"]
    assert cells[0]["metadata"]["tags"] == ["injected-parameters"]  # no parameters cell: on top
    assert "".join(cells[1]["outputs"][0]["text"]) == "start\n"


def test_timeout_even_when_the_cell_ignores_interrupts(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(
        tmp_path / "stubborn.ipynb",
        b.code("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"),
    )
    t0 = time.monotonic()
    run = mlops_nb.run(nb, runs_dir=runs_dir, timeout=1)
    assert time.monotonic() - t0 < 20
    assert run.status == "timeout"


def test_sigterm_to_a_running_cli(tmp_path: Path, runs_dir: Path) -> None:
    marker = tmp_path / "kernel.pid"
    nb = b.write(
        tmp_path / "long.ipynb",
        b.code("import os, time"),
        # the pid is written from the long cell itself: once it is there, that cell is running
        b.code(f"open({str(marker)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_nb", "run", str(nb), "--runs-dir", str(runs_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (marker.exists() and marker.read_text()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    kernel_pid = int(marker.read_text())
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    (folder,) = [p for p in runs_dir.iterdir() if p.is_dir()]
    rec = json.loads((folder / "run.json").read_text())
    assert rec["status"] == "interrupted"
    assert rec["error"]["cell_index"] == 1
    assert (folder / "output.ipynb").exists()
    assert not psutil.pid_exists(kernel_pid) or psutil.Process(kernel_pid).status() == "zombie"


def test_reuse_returns_the_earlier_run(nb: Path, runs_dir: Path) -> None:
    first = mlops_nb.run(nb, {"alpha": 1.0}, runs_dir=runs_dir)
    again = mlops_nb.run(nb, {"alpha": 1.0}, runs_dir=runs_dir, reuse=True)
    assert again.id == first.id
    other = mlops_nb.run(nb, {"alpha": 3.0}, runs_dir=runs_dir, reuse=True)
    assert other.id != first.id
    (nb.parent / "data.csv").write_text("a,b\n5,6\n")  # same code and params, new input data
    changed = mlops_nb.run(nb, {"alpha": 1.0}, runs_dir=runs_dir, reuse=True)
    assert changed.id != first.id
    assert changed.record["key"] != first.record["key"]


def test_name_cannot_escape_the_runs_folder(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(tmp_path / "n.ipynb", b.code("x = 1"))
    for name in ["../../escape", "/etc/passwd", "a/../../b", "x\x00y"]:
        run = mlops_nb.run(nb, runs_dir=runs_dir, name=name)
        assert run.path.resolve().parent == runs_dir.resolve()
        assert run.name == name
    with pytest.raises(UsageError, match=r"the run name '\.\.' has no letter or digit"):
        mlops_nb.run(nb, runs_dir=runs_dir, name="..")  # no name a reference could mean
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.ipynb", "runs"]


def test_load_gives_a_function(nb: Path, runs_dir: Path) -> None:
    train = mlops_nb.load(nb, runs_dir=runs_dir)
    sig = inspect.signature(train)
    assert list(sig.parameters) == ["alpha", "model", "data", "output_dir"]
    assert sig.parameters["alpha"].default == 0.5
    assert sig.parameters["alpha"].annotation == "float"
    run = train(alpha=1.5, model="rf")
    assert run.scraps["score"] == 3.0 and run.scraps["model"] == "rf"
    with pytest.raises(mlops_nb.errors.ParameterError, match="Did you mean 'alpha'"):
        train(alpah=1)


def test_load_raises_when_the_notebook_fails(tmp_path: Path, runs_dir: Path) -> None:
    fail = mlops_nb.load(b.write(tmp_path / "f.ipynb", b.code("1/0")), runs_dir=runs_dir)
    with pytest.raises(RunFailed, match="ZeroDivisionError"):
        fail()


def test_cli_run_prints_id_and_scraps(
    nb: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(nb), "-p", "alpha", "3", "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "score=6" in out and "model=lr" in out
    assert main(["run", str(nb), "--json", "--runs-dir", str(runs_dir)]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "ok"
    assert main(["show", "latest", "--runs-dir", str(runs_dir)]) == 0
    assert "score=1" in capsys.readouterr().out


def test_cli_failure_exit_code(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(tmp_path / "f.ipynb", b.code("raise KeyError('k')"))
    assert main(["run", str(nb), "--runs-dir", str(runs_dir)]) == 1
    assert "KeyError" in capsys.readouterr().out


HOSTILE = "a\"; __import__('os').system('touch PWNED'); '\n\\"


def test_hostile_strings_arrive_as_plain_strings(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.write(
        tmp_path / "echo.ipynb",
        b.params("text: str = ''\nitems: list = []"),
        b.code("import scrapbook as sb\nsb.glue('text', text)\nsb.glue('items', items)"),
    )
    run = mlops_nb.run(nb, {"text": HOSTILE, "items": [HOSTILE, {"k": HOSTILE}]}, runs_dir=runs_dir)
    assert run.status == "ok", run.error
    assert run.scraps["text"] == HOSTILE
    assert run.scraps["items"] == [HOSTILE, {"k": HOSTILE}]
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()
    # and through the CLI's raw flag
    assert main(["run", str(nb), "-r", "text", HOSTILE, "--runs-dir", str(runs_dir)]) == 0
    assert not (tmp_path / "PWNED").exists()


def test_notebook_saved_by_jupyter_with_line_lists(tmp_path: Path, runs_dir: Path) -> None:
    nb = b.notebook(b.params("x = 1"), b.code("import scrapbook as sb\ny = x + 1\nsb.glue('y', y)"))
    for cell in nb["cells"]:
        cell["source"] = cell["source"].splitlines(keepends=True)  # as Jupyter writes them
    path = tmp_path / "saved.ipynb"
    path.write_text(json.dumps(nb))
    run = mlops_nb.run(path, {"x": 41}, runs_dir=runs_dir)
    assert run.status == "ok", run.error
    assert run.scraps["y"] == 42
    assert (
        mlops_nb.execution.api.Run.find(run.id.partition("Z-")[2][:4], runs_dir=runs_dir).id
        == run.id
    )


def test_a_folder_parameter_holding_the_runs_store_keeps_the_key_stable(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("1\n")
    nb = b.write(tmp_path / "n.ipynb", b.params("root: str = '.'"), b.code("x = 1"))
    runs = tmp_path / "runs"  # inside the folder named by `root`
    first = mlops_nb.run(nb, runs_dir=runs)
    again = mlops_nb.run(nb, runs_dir=runs, reuse=True)
    assert again.id == first.id
    assert first.record["inputs"]["."]["files"] == 2  # n.ipynb and data/a.csv, not the runs


def test_big_folders_are_hashed_by_size_and_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_nb.execution import provenance

    for i in range(5):
        (tmp_path / f"f{i}").write_text(str(i))
    monkeypatch.setattr(provenance, "_MAX_DIR_FILES", 3)
    before = provenance.dir_digest(tmp_path)
    assert before["by"] == "size+mtime"
    assert before["files"] == 5
    (tmp_path / "f4").write_text("changed!")
    assert provenance.dir_digest(tmp_path)["sha256"] != before["sha256"]


def test_partial_output_shows_finished_cells_during_a_long_silent_cell(
    tmp_path: Path, runs_dir: Path
) -> None:
    """papermill's saves around each cell are throttled to one a second; one asked for sooner
    still happens, so a driver killed during a long cell leaves the outputs so far on disk."""
    import threading

    nb = b.write(
        tmp_path / "long.ipynb",
        b.params("x = 1"),
        b.code("print('first cell done')"),
        b.code("import time\ntime.sleep(6)"),
    )
    runner = threading.Thread(target=mlops_nb.run, args=(nb,), kwargs={"runs_dir": runs_dir})
    runner.start()
    try:
        seen = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "first cell done" not in seen:
            time.sleep(0.2)
            for partial in runs_dir.glob("*/.output.partial.ipynb"):
                try:
                    cells = json.loads(partial.read_text())["cells"]
                except (OSError, ValueError):
                    continue
                seen = json.dumps([c.get("outputs") for c in cells])
        running = runner.is_alive()
    finally:
        runner.join(60)
    assert "first cell done" in seen
    assert running  # seen while the long cell was still executing
