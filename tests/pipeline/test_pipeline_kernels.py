"""Pipeline steps run on forked kernels whose template preloaded what the steps import, and the
independent steps of a wave (notebooks and sweeps) run at the same time."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.pipeline import spec
from mlops_nb.pipeline.engine import run
from mlops_nb.store import runs as store
from tests import nbbuild as b

pytestmark = pytest.mark.kernel
UPSTREAM = "upstream: dict | None = None"

# What the kernel looked like before the notebook imported anything.
PROBE = b.code(
    "import os, sys\n"
    "parent = open(f'/proc/{os.getppid()}/cmdline').read()\n"
    "forked = '_forkserver.py' in parent\n"
    "preloaded = 'colorsys' in sys.modules\n"
)
GLUE = b.code(
    "import colorsys\nimport scrapbook as sb\n"
    "sb.glue('forked', forked)\nsb.glue('preloaded', preloaded)"
)


def write_pipeline(proj: Path, text: str) -> Path:
    path = proj / "pipeline.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def two_steps(no_kernels_left: Path) -> Path:
    proj = no_kernels_left
    b.write(proj / "a.ipynb", b.params(f"x: int = 1\n{UPSTREAM}"), PROBE, GLUE)
    b.write(proj / "b.ipynb", b.params(f"y: int = 2\n{UPSTREAM}"), PROBE, GLUE)
    return write_pipeline(
        proj,
        """\
        name: kernels
        steps:
          a: {notebook: a.ipynb}
          b: {notebook: b.ipynb, upstream: [a]}
        """,
    )


@pytest.mark.parametrize(("flags", "forked"), [([], True), (["--no-fork"], False)])
def test_steps_run_on_forked_preloaded_kernels(
    two_steps: Path, runs_dir: Path, flags: list[str], forked: bool
) -> None:
    argv = ["pipeline", "run", str(two_steps), "--runs-dir", str(runs_dir), *flags]
    assert main(argv) == 0
    recs = list(store.iter_records(runs_dir))
    assert len(recs) == 2
    for rec in recs:
        assert rec["status"] == "ok"
        # --no-fork: each kernel a new process that imports everything itself
        assert rec["scraps"] == {"forked": forked, "preloaded": forked}


def test_an_up_to_date_pipeline_starts_no_fork_server(two_steps: Path, runs_dir: Path) -> None:
    from mlops_nb.kernels import forking

    assert run(spec.load(two_steps), runs_dir=runs_dir).ok
    assert not forking._SERVERS  # released when the pipeline ended
    second = run(spec.load(two_steps), runs_dir=runs_dir)
    assert [o.action for o in second.outcomes] == ["skipped", "skipped"]
    assert not forking._SERVERS


def rendezvous(me: str, other: str) -> str:
    """Code that says it started, then waits (up to 60 s) for the other step to say so too:
    it can only end ok when both run at the same time."""
    return (
        "import os, time\nimport scrapbook as sb\n"
        f"open(os.path.join(meet, '{me}'), 'w').close()\n"
        "deadline = time.monotonic() + 60\n"
        f"while not os.path.exists(os.path.join(meet, '{other}')):\n"
        "    assert time.monotonic() < deadline, 'the other step never ran alongside'\n"
        "    time.sleep(0.05)\n"
        "sb.glue('met', True)"
    )


def test_a_notebook_step_and_a_sweep_step_of_one_wave_run_at_the_same_time(
    no_kernels_left: Path, runs_dir: Path
) -> None:
    proj = no_kernels_left
    meet = proj / "meet"
    meet.mkdir()
    b.write(proj / "prep.ipynb", b.params(f"{UPSTREAM}"), b.code("x = 1"))
    b.write(
        proj / "single.ipynb",
        b.params(f"meet: str = ''\n{UPSTREAM}"),
        b.code(rendezvous("single", "grid")),
    )
    b.write(
        proj / "grid.ipynb",
        b.params(f"meet: str = ''\nk: int = 0\n{UPSTREAM}"),
        b.code(rendezvous("grid", "single")),
    )
    pf = write_pipeline(
        proj,
        f"""\
        name: parallel
        steps:
          prep: {{notebook: prep.ipynb}}
          single: {{notebook: single.ipynb, upstream: [prep], params: {{meet: "{meet}"}}}}
          grid:
            notebook: grid.ipynb
            upstream: [prep]
            params: {{meet: "{meet}"}}
            grid: {{k: [1]}}
            select: {{metric: met, mode: max}}
        """,
    )
    result = run(spec.load(pf), runs_dir=runs_dir, workers=2)
    assert [(o.step, o.action) for o in result.outcomes] == [
        ("prep", "ran"),
        ("single", "ran"),
        ("grid", "ran"),
    ], [o.detail for o in result.outcomes]
