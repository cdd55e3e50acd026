"""Pipelines of real notebooks: validation, upstream passing, incremental re-runs, lineage."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlops_nb.errors import ConfigError
from mlops_nb.main import main
from mlops_nb.pipeline import spec
from mlops_nb.pipeline.engine import mark_done, plan, run
from tests import nbbuild as b
from tests.conftest import FORGOT_RUNS_DIR

UPSTREAM = "upstream: dict | None = None"


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    (proj / "mylib").mkdir(parents=True)
    (proj / "mylib" / "__init__.py").write_text("")
    (proj / "mylib" / "features.py").write_text("def double(x):\n    return 2 * x\n")
    (proj / "raw.csv").write_text("x\n1\n2\n")
    b.write(
        proj / "prep.ipynb",
        b.markdown("# prep"),
        b.params(f"data: str = 'raw.csv'\nfactor: int = 1\noutput_dir: str = '.'\n{UPSTREAM}"),
        b.code(
            "import time, scrapbook as sb\nfrom mylib.features import double\n"
            "t0 = time.time()\nrows = open(data).read().split()[1:]\n"
            "total = sum(double(int(r)) for r in rows) * factor\n"
            "open(output_dir + '/total.txt', 'w').write(str(total))\n"
            "sb.glue('total', total)"
        ),
    )
    b.write(
        proj / "use.ipynb",
        b.params(f"offset: int = 0\noutput_dir: str = '.'\n{UPSTREAM}"),
        b.code(
            "import scrapbook as sb\n"
            "total = int(open(upstream['prep'] + '/total.txt').read())\n"
            "sb.glue('result', total + offset)"
        ),
    )
    write_yaml(
        proj / "pipeline.yaml",
        """\
        name: demo
        steps:
          prep:
            notebook: prep.ipynb
            params: {data: raw.csv}
          use:
            notebook: use.ipynb
            upstream: [prep]
            params: {offset: 10}
        """,
    )
    return proj


def statuses(pipeline_file: Path, runs_dir: Path) -> dict[str, list[str]]:
    return {p.step.name: p.reasons for p in plan(spec.load(pipeline_file), runs_dir)}


@pytest.mark.kernel
def test_upstream_passing_skip_and_staleness(project: Path, runs_dir: Path) -> None:
    pf = project / "pipeline.yaml"
    first = run(spec.load(pf), runs_dir=runs_dir)
    assert [(o.step, o.action) for o in first.outcomes] == [("prep", "ran"), ("use", "ran")]
    assert first.outcomes[1].scraps["result"] == 2 * (1 + 2) + 10  # read from prep's run folder
    assert first.outcomes[1].run_folder is not None
    use_rec = json.loads((Path(first.outcomes[1].run_folder) / "run.json").read_text())
    assert use_rec["params"]["upstream"]["prep"].endswith(first.outcomes[0].run_id)
    assert use_rec["pipeline"]["upstream"] == {"prep": first.outcomes[0].run_id}
    assert use_rec["pipeline"]["step"] == "use"

    second = run(spec.load(pf), runs_dir=runs_dir)
    assert [o.action for o in second.outcomes] == ["skipped", "skipped"]
    assert statuses(pf, runs_dir) == {"prep": [], "use": []}

    nb_file = project / "prep.ipynb"
    nb = json.loads(nb_file.read_text())
    # markdown edits and outputs do not make a step stale
    nb["cells"][0]["source"] = "# prep, reworded"
    nb["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    nb["cells"][2]["execution_count"] = 7
    nb_file.write_text(json.dumps(nb))
    assert statuses(pf, runs_dir) == {"prep": [], "use": []}

    # a code edit: stale with the cell named, and downstream stale because upstream changed
    nb["cells"][2]["source"] += "\n# tweak"
    nb_file.write_text(json.dumps(nb))
    st = statuses(pf, runs_dir)
    assert st["prep"] == ["code changed in code cell 2"]
    assert st["use"] == ["upstream prep changed"]
    third = run(spec.load(pf), runs_dir=runs_dir)
    assert [o.action for o in third.outcomes] == ["ran", "ran"]

    (project / "raw.csv").write_text("x\n1\n2\n3\n")
    assert statuses(pf, runs_dir)["prep"] == ["input file raw.csv changed"]
    run(spec.load(pf), runs_dir=runs_dir)

    (project / "mylib" / "features.py").write_text("def double(x):\n    return x + x\n")
    assert statuses(pf, runs_dir)["prep"] == ["module mylib/features.py changed"]
    run(spec.load(pf), runs_dir=runs_dir)

    pf.write_text(pf.read_text().replace("offset: 10", "offset: 11"))
    st = statuses(pf, runs_dir)
    assert st == {"prep": [], "use": ["parameter offset changed (10 -> 11)"]}
    fourth = run(spec.load(pf), runs_dir=runs_dir)
    assert [o.action for o in fourth.outcomes] == ["skipped", "ran"]
    assert fourth.outcomes[1].scraps["result"] == 2 * (1 + 2 + 3) + 11


@pytest.mark.kernel
def test_force_and_mark_done(project: Path, runs_dir: Path) -> None:
    pf = project / "pipeline.yaml"
    run(spec.load(pf), runs_dir=runs_dir)
    forced = run(spec.load(pf), runs_dir=runs_dir, force={"prep"})
    # a forced step hands a new run downstream, so downstream runs too
    assert [o.action for o in forced.outcomes] == ["ran", "ran"]
    assert forced.outcomes[1].reasons == ["upstream prep was re-run"]
    all_forced = run(spec.load(pf), runs_dir=runs_dir, force=True)
    assert [o.action for o in all_forced.outcomes] == ["ran", "ran"]

    nb_file = project / "use.ipynb"
    nb_file.write_text(
        nb_file.read_text().replace("import scrapbook as sb", "import scrapbook as sb  # cosmetic")
    )
    assert statuses(pf, runs_dir)["use"] == ["code changed in code cell 2"]
    mark_done(spec.load(pf), runs_dir, "use")
    assert statuses(pf, runs_dir) == {"prep": [], "use": []}
    assert [o.action for o in run(spec.load(pf), runs_dir=runs_dir).outcomes] == ["skipped"] * 2


def test_mark_done_needs_a_previous_run(project: Path, runs_dir: Path) -> None:
    with pytest.raises(ConfigError, match="never run successfully"):
        mark_done(spec.load(project / "pipeline.yaml"), runs_dir, "prep")
    with pytest.raises(ConfigError, match="no step 'nope'"):
        mark_done(spec.load(project / "pipeline.yaml"), runs_dir, "nope")


@pytest.mark.kernel
def test_failed_step_blocks_downstream_and_resumes(project: Path, runs_dir: Path) -> None:
    pf = project / "pipeline.yaml"
    (project / "raw.csv").write_text("x\nnot-a-number\n")
    result = run(spec.load(pf), runs_dir=runs_dir)
    assert [o.action for o in result.outcomes] == ["failed", "blocked"]
    assert "ValueError" in result.outcomes[0].detail
    assert not result.ok
    (project / "raw.csv").write_text("x\n5\n")
    again = run(spec.load(pf), runs_dir=runs_dir)
    assert [o.action for o in again.outcomes] == ["ran", "ran"]


@pytest.mark.kernel
def test_independent_steps_run_in_parallel(tmp_path: Path, runs_dir: Path) -> None:
    # A rendezvous: each step announces itself and waits for the other. Run one after the
    # other, the first would give up waiting; run together, both see each other.
    for name, other in (("a", "b"), ("b", "a")):
        b.write(
            tmp_path / f"{name}.ipynb",
            b.params("output_dir: str = '.'"),
            b.code(
                "import pathlib, time, scrapbook as sb\n"
                f"here = pathlib.Path({str(tmp_path)!r})\n"
                f"(here / '{name}.started').touch()\n"
                "deadline = time.time() + 60\n"
                f"while not (here / '{other}.started').exists() and time.time() < deadline:\n"
                "    time.sleep(0.05)\n"
                f"sb.glue('saw_other', (here / '{other}.started').exists())"
            ),
        )
    pf = write_yaml(
        tmp_path / "p.yaml", "steps:\n  a: {notebook: a.ipynb}\n  b: {notebook: b.ipynb}\n"
    )
    (tmp_path / "a.started").unlink(missing_ok=True)
    result = run(spec.load(pf), runs_dir=runs_dir, workers=2)
    assert [o.scraps.get("saw_other") for o in result.outcomes] == [True, True]


@pytest.mark.kernel
def test_lineage(project: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(spec.load(project / "pipeline.yaml"), runs_dir=runs_dir)
    use_id = result.outcomes[1].run_id
    assert use_id
    assert main(["show", use_id, "--lineage", "--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    lineage = out[out.index("lineage:") :].splitlines()
    assert lineage[1].strip().startswith(use_id)
    assert result.outcomes[0].run_id is not None
    assert lineage[2].strip().startswith(result.outcomes[0].run_id)  # its upstream run
    assert "[prep]" in lineage[2]
    assert "data: raw.csv  sha256:" in lineage[3]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("steps:\n  a: {notebook: a.ipynb, upstream: [zz]}\n", "unknown upstream step 'zz'"),
        (
            "steps:\n  a: {notebook: a.ipynb, upstream: [c]}\n  b: {notebook: a.ipynb, upstream: [a]}\n"
            "  c: {notebook: a.ipynb, upstream: [b]}\n",
            "the steps form a cycle: a -> b -> c -> a",
        ),
        ("steps:\n  a: {notebook: missing.ipynb}\n", "notebook 'missing.ipynb' not found"),
        ("steps:\n  a: {notebook: a.ipynb, params: {nope: 1}}\n", "unknown parameter 'nope'"),
        ("steps:\n  a: {notebook: a.ipynb, params: {n: abc}}\n", "parameter 'n' expects int"),
        ("steps:\n  a: {notebok: a.ipynb}\n", "unknown key 'notebok' (did you mean 'notebook'?)"),
        (
            "steps:\n  a: {notebook: a.ipynb}\n  b: {notebook: noup.ipynb, upstream: [a]}\n",
            "declares no 'upstream' parameter",
        ),
        (
            "steps:\n  a: {notebook: a.ipynb, grid: {n: [1, x]}, select: {metric: f1}}\n",
            "parameter 'n' expects int, but was given 'x'",
        ),
        ("steps:\n  a: {notebook: a.ipynb}\n  b: : :\n", "invalid YAML at line 3"),
        ("steps: []\n", "'steps:' must be a mapping"),
    ],
    ids=[
        "unknown-upstream",
        "cycle",
        "missing-notebook",
        "undeclared-param",
        "bad-type",
        "typo-key",
        "no-upstream-param",
        "bad-grid-value",
        "yaml",
        "no-steps",
    ],
)
def test_validation_errors(tmp_path: Path, yaml_text: str, message: str) -> None:
    b.write(tmp_path / "a.ipynb", b.params(f"n: int = 1\n{UPSTREAM}"), b.code("pass"))
    b.write(tmp_path / "noup.ipynb", b.params("n: int = 1"), b.code("pass"))
    pf = tmp_path / "p.yaml"
    pf.write_text(yaml_text)
    with pytest.raises(ConfigError) as e:
        spec.load(pf)
    assert message in str(e.value)


def test_cli_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipeline", "status", str(tmp_path / "none.yaml")]) == 2
    assert "no pipeline file" in capsys.readouterr().err


def test_show_text_and_mermaid(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipeline", "show", str(project / "pipeline.yaml"), "--format", "mermaid"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart LR")
    assert "prep --> use" in out
    assert main(["pipeline", "show", str(project / "pipeline.yaml")]) == 0
    assert "[2] use: use.ipynb  <- prep" in capsys.readouterr().out


@pytest.mark.kernel
def test_interrupt_records_and_resumes(tmp_path: Path, runs_dir: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    import psutil

    flag, pid_file = tmp_path / "slow.flag", tmp_path / "kernel.pid"
    flag.touch()
    b.write(tmp_path / "a.ipynb", b.params(f"x: int = 1\n{UPSTREAM}"), b.code("y = x"))
    b.write(
        tmp_path / "b.ipynb",
        b.params(UPSTREAM),
        b.code(
            "import os, pathlib, time\n"
            f"if pathlib.Path({str(flag)!r}).exists():\n"
            f"    pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\n"
            "    time.sleep(120)"
        ),
    )
    pf = write_yaml(
        tmp_path / "p.yaml",
        "steps:\n  a: {notebook: a.ipynb}\n  b: {notebook: b.ipynb, upstream: [a]}\n",
    )
    cmd = [
        sys.executable,
        "-m",
        "mlops_nb",
        "pipeline",
        "run",
        str(pf),
        "--runs-dir",
        str(runs_dir),
    ]
    # --runs-dir is not $MLOPS_NB_RUNS_DIR here, so the resume hint must name it
    env = {**os.environ, "MLOPS_NB_RUNS_DIR": FORGOT_RUNS_DIR}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not (pid_file.exists() and pid_file.read_text()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    kernel_pid = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "interrupted" in err
    assert "Traceback" not in err
    resume = re.search(r"run `([^`]+)` again to resume", err)
    assert resume and shlex.split(resume[1]) == ["mlops-nb", *cmd[3:]], err  # copy-pasteable
    assert not psutil.pid_exists(kernel_pid) or psutil.Process(kernel_pid).status() == "zombie"
    statuses = sorted(json.loads(p.read_text())["status"] for p in runs_dir.glob("*/run.json"))
    assert statuses == ["interrupted", "ok"]

    flag.unlink()
    again = run(spec.load(pf), runs_dir=runs_dir)
    assert [o.action for o in again.outcomes] == ["skipped", "ran"]


@pytest.mark.parametrize("name", ["../../escaped", "/abs/path", "a b"])
def test_pipeline_name_must_be_a_plain_folder_name(tmp_path: Path, name: str) -> None:
    b.write(tmp_path / "a.ipynb", b.params("n: int = 1"), b.code("pass"))
    pf = tmp_path / "p.yaml"
    pf.write_text(f"name: {json.dumps(name)}\nsteps:\n  a: {{notebook: a.ipynb}}\n")
    with pytest.raises(ConfigError, match="must be a plain folder name"):
        spec.load(pf)


@pytest.mark.kernel
def test_report_step_covers_this_pipelines_runs_only(project: Path, runs_dir: Path) -> None:
    import mlops_nb

    outsider = mlops_nb.run(project / "prep.ipynb", {"factor": 5}, runs_dir=runs_dir)
    pipeline_file = write_yaml(
        project / "reported.yaml",
        """\
        name: reported
        steps:
          prep:
            notebook: prep.ipynb
          report:
            report: {output: out/report.html}
        """,
    )
    result = run(spec.load(pipeline_file), runs_dir=runs_dir)
    assert result.ok
    page = (project / "out" / "report.html").read_text()
    records = [json.loads(p.read_text()) for p in runs_dir.glob("*/run.json")]
    ours = [r["id"] for r in records if (r.get("pipeline") or {}).get("name") == "reported"]
    assert len(ours) == 1
    assert ours[0] in page
    assert outsider.id not in page
    assert "--pipeline reported" in page
    # the report step alone, in a fresh process: it imports what its background warm-up imports
    again = [sys.executable, "-m", "mlops_nb", "pipeline", "run", str(pipeline_file)]
    for _ in range(2):
        done = subprocess.run(
            [*again, "--runs-dir", str(runs_dir), "--force", "report"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert re.search(r"report +ran", done.stdout), done.stdout
