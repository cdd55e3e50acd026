"""The live guard in a real kernel, driven through jupyter_client with cell ids as Jupyter sends."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import nbbuild as b

pytestmark = pytest.mark.kernel


@dataclass
class Reply:
    status: str
    stderr: str
    stdout: str
    error: str


class Kernel:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=str(cwd), env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def run(self, code: str, cell_id: str | None) -> Reply:
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        metadata = {"cellId": cell_id} if cell_id else {}
        msg = self.kc.session.msg("execute_request", content, metadata=metadata)
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        streams: dict[str, str] = {"stdout": "", "stderr": ""}
        error = ""
        while True:
            m = self.kc.get_iopub_msg(timeout=30)
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            kind, c = m["msg_type"], m["content"]
            if kind == "stream":
                streams[c["name"]] += c["text"]
            elif kind == "error":
                error = f"{c['ename']}: {c['evalue']}"
            elif kind == "status" and c["execution_state"] == "idle":
                break
        while True:
            reply = self.kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        return Reply(reply["content"]["status"], streams["stderr"], streams["stdout"], error)

    def close(self) -> None:
        self.kc.stop_channels()
        # A shutdown request, as Jupyter sends when a notebook is closed: the kernel exits
        # normally, so coverage can save what the guard ran in it (a SIGKILL would lose it).
        self.km.shutdown_kernel()


def _kernel_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JPY_SESSION_NAME", "MLOPS_NB_GUARD")}
    env.update(extra)
    return env


def _notebook(path: Path) -> Path:
    return b.write(
        path,
        b.code("%load_ext mlops_nb", id="load"),
        b.code("a = 1", id="c1"),
        b.markdown("text", id="md"),
        b.code("b = a + 1", id="c2"),
        b.code("", id="empty"),
        b.code("c = b + 1", id="c3"),
    )


@pytest.fixture
def kernel_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[Kernel] = []

    def start(**env: str) -> Kernel:
        k = Kernel(tmp_path, _kernel_env(**env))
        started.append(k)
        return k

    yield start
    for k in started:
        k.close()


def test_warns_under_the_cell_when_run_out_of_order(tmp_path: Path, kernel_factory: Any) -> None:
    nb = _notebook(tmp_path / "analysis.ipynb")
    k = kernel_factory(JPY_SESSION_NAME=str(nb))  # as Jupyter Server starts kernels
    loaded = k.run("%load_ext mlops_nb", "load")
    assert (loaded.status, loaded.stderr) == ("ok", "")
    assert k.run("a = 1", "c1").stderr == ""
    assert k.run("b = a + 1", "c2").stderr == ""  # markdown and empty cells are not "skipped"
    assert k.run("b = a + 1", "c2").stderr == ""  # re-running the same cell is not flagged
    above = k.run("a = 1", "c1")
    assert above.status == "ok"  # warn mode: the cell still runs
    assert above.stderr.startswith("mlops-nb guard: cell 2 runs above the last executed cell 4")
    assert "Restart & Run All" in above.stderr
    # An unsaved new cell (unknown id) is not judged; a saved one is, once the file changes.
    assert k.run("d = 4", "new-cell").stderr == ""
    b.write(
        nb,
        b.code("%load_ext mlops_nb", id="load"),
        b.code("a = 1", id="c1"),
        b.code("b = a + 1", id="c2"),
        b.code("z = 0", id="c-new"),
        b.code("c = b", id="c3"),
    )
    skipped = k.run("c = b + 1", "c3")
    assert "code cell(s) 4 above it did not run in this kernel session" in skipped.stderr
    # Kernels without cell ids (consoles, old front ends) are never warned.
    assert k.run("1 + 1", None).stderr == ""


def test_skipping_a_cell_after_loading(tmp_path: Path, kernel_factory: Any) -> None:
    nb = _notebook(tmp_path / "x.ipynb")
    k = kernel_factory(JPY_SESSION_NAME=nb.name)  # relative: resolved against the kernel's cwd
    k.run("%load_ext mlops_nb", "load")
    out = k.run("c = 3", "c3")
    assert "mlops-nb guard: cell 6 runs, but code cell(s) 2, 4 above it did not run" in out.stderr


def test_strict_mode_stops_the_cell_and_magic_controls(tmp_path: Path, kernel_factory: Any) -> None:
    nb = _notebook(tmp_path / "y.ipynb")
    k = kernel_factory()  # no JPY_SESSION_NAME: the guard asks for the path
    loaded = k.run("%load_ext mlops_nb", "load")
    assert loaded.stderr == ""  # the next cell may name the notebook: no warning yet
    status = k.run(f"%mlops_nb_guard --strict {nb}", "load")
    assert f"mode strict, notebook {nb.resolve()}" in status.stderr
    assert k.run("a = 1", "c1").status == "ok"
    assert k.run("b = a + 1", "c2").status == "ok"
    rejected = k.run("a = 100", "c1")
    assert rejected.status == "error"
    assert rejected.error.startswith("OutOfOrderError: mlops-nb guard (strict): cell 2 runs above")
    assert "This cell was not run" in rejected.error
    assert k.run("print(a)", "c3").stdout == "1\n"  # a = 100 never ran; c3 is in order
    # --off disables the checks; %unload_ext removes the guard entirely.
    k.run("%mlops_nb_guard --off", "c3")
    assert k.run("a = 2", "c1").status == "ok"
    k.run("%mlops_nb_guard --strict", "c3")
    k.run("%unload_ext mlops_nb", "c3")
    assert k.run("a = 3", "c1").status == "ok"


def test_env_var_sets_strict_mode_and_watch_api(tmp_path: Path, kernel_factory: Any) -> None:
    nb = _notebook(tmp_path / "z.ipynb")
    k = kernel_factory(MLOPS_NB_GUARD="strict")
    k.run("%load_ext mlops_nb", "load")
    assert (
        k.run(f"import mlops_nb.guard; g = mlops_nb.guard.watch({str(nb)!r})", "c1").status == "ok"
    )
    assert k.run("print(g.mode)", "c2").stdout == "strict\n"
    assert k.run("x = 1", "c1").status == "error"


def test_the_guards_own_cells_always_run_even_strict_and_out_of_order(
    tmp_path: Path, kernel_factory: Any
) -> None:
    nb = _notebook(tmp_path / "s.ipynb")
    k = kernel_factory(JPY_SESSION_NAME=str(nb), MLOPS_NB_GUARD="strict")
    assert k.run("%load_ext mlops_nb", "load").stderr == ""
    assert k.run("a = 1", "c1").status == "ok"
    assert k.run("b = a + 1", "c2").status == "ok"
    assert k.run("a = 5", "c1").status == "error"  # strict: out of order is refused
    # The top cell, edited and re-run (out of order): the switches are never locked.
    status = k.run("%mlops_nb_guard --status", "load")
    assert (status.status, status.error) == ("ok", "")
    assert f"mode strict, notebook {nb.resolve()}" in status.stderr
    assert k.run("%reload_ext mlops_nb", "load").status == "ok"
    off = k.run("# switch the guard off\n%mlops_nb_guard --off\n", "load")
    assert (off.status, off.error) == ("ok", "")
    assert k.run("a = 5", "c1").status == "ok"  # off: nothing is checked
    assert k.run("%mlops_nb_guard --strict", "c1").status == "ok"
    # A cell mixing the guard's magic with code is an ordinary cell: checked as such.
    mixed = k.run("%mlops_nb_guard --status\nx = 1", "c1")
    assert mixed.status == "ok"  # c1 again right after c1: in order


def test_naming_the_notebook_after_loading_gives_no_warning(
    tmp_path: Path, kernel_factory: Any
) -> None:
    nb = _notebook(tmp_path / "n.ipynb")
    k = kernel_factory()  # not started by Jupyter Server: the kernel cannot tell the notebook
    assert k.run("%load_ext mlops_nb", "load").stderr == ""
    named = k.run(f"%mlops_nb_guard {nb}", "load")
    assert named.stderr == f"mlops-nb guard: mode warn, notebook {nb.resolve()}\n"
    assert k.run("a = 1", "c1").stderr == ""
    # Loading and naming in one cell, or naming with watch() in the next one: no warning either.
    k2 = kernel_factory()
    both = k2.run(f"%load_ext mlops_nb\n%mlops_nb_guard {nb}", "load")
    assert "cannot tell" not in both.stderr
    assert k2.run("a = 1", "c1").stderr == ""
    k3 = kernel_factory()
    assert k3.run("%load_ext mlops_nb", "load").stderr == ""
    watched = k3.run(f"import mlops_nb.guard; mlops_nb.guard.watch({str(nb)!r})", "c1")
    assert watched.stderr == ""
    assert k3.run("b = 2", "c2").stderr == ""


def test_an_unknown_notebook_is_reported_once_after_the_first_other_cell(
    tmp_path: Path, kernel_factory: Any
) -> None:
    k = kernel_factory()
    assert k.run("%load_ext mlops_nb", "load").stderr == ""
    assert k.run("%mlops_nb_guard --strict", "load").stderr.startswith(
        "mlops-nb guard: mode strict, notebook unknown notebook"
    )
    first = k.run("a = 1", "c1")
    assert first.status == "ok"  # nothing to check against: the cell runs
    assert "cannot tell which notebook this kernel runs" in first.stderr
    assert k.run("b = 2", "c2").stderr == ""  # said once
