"""`mlops-nb export` without any tracking SDK: selection, dry run, errors, the exporter registry
and its entry points (a plugin exporter written here, loaded through its distribution's entry
point), idempotency and partial exports through that plugin, and `[tool.mlops-nb.track]`."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

import mlops_nb
from mlops_nb.main import main
from mlops_nb.store import index
from mlops_nb.tracking import model, registry, track
from mlops_nb.tracking.api import PartialExport

PLUGIN = '''
"""A real exporter plugin: each entity as one JSON file in a folder."""
import json, os
from pathlib import Path
from mlops_nb.tracking.registry import ExportError


class JsonExporter:
    name = "jsonfiles"

    def __init__(self, *, runs_dir, logdir=None, **others):
        self.dir = Path(logdir or Path(runs_dir).parent / "json-exports")

    def destination(self, entity):
        return str(self.dir)

    def connect(self, entities):
        self.dir.mkdir(parents=True, exist_ok=True)

    def begin(self, todo):
        pass

    def put(self, entity, parent):
        if os.environ.get("JSONFILES_FAIL") and os.environ["JSONFILES_FAIL"] in entity.key:
            raise ExportError("the folder refused it.")
        path = self.dir / (entity.key.replace(":", "_").replace("@", "_") + ".json")
        action = "completed" if path.exists() else "created"
        data = {"key": entity.key, "parent": parent, "status": entity.status}
        path.write_text(json.dumps(data))
        return str(path.name), action

    def close(self):
        pass
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Install the plugin as a distribution with an ``mlops_nb.exporters`` entry point."""
    site = tmp_path / "site"
    (site / "jsonfiles_exporter-0.1.dist-info").mkdir(parents=True)
    (site / "jsonfiles_exporter.py").write_text(PLUGIN)
    info = site / "jsonfiles_exporter-0.1.dist-info"
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: jsonfiles-exporter\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        "[mlops_nb.exporters]\njsonfiles = jsonfiles_exporter:JsonExporter\n"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "jsonfiles_exporter", raising=False)
    return "jsonfiles"


def test_registry_lists_builtin_and_plugin_targets(plugin: str) -> None:
    assert registry.available() == ["jsonfiles", "mlflow", "tensorboard", "wandb"]


def test_unknown_target_lists_the_valid_ones(
    project: Path, plugin: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "neptune", "--all"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "mlops-nb: error: unknown export target 'neptune'. "
        "Valid export targets: jsonfiles, mlflow, tensorboard, wandb."
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "mlflow"], "say which runs to export"),
        (
            ["export", "mlflow", "--all", "--logdir", "tb"],
            "--logdir does not apply to export mlflow",
        ),
        (["export", "tensorboard", "--all", "--project", "p"], "--project does not apply"),
        (["export", "wandb", "--all", "--tracking-uri", "x"], "--tracking-uri does not apply"),
        (["export", "mlflow", "--status", "done"], "unknown status done"),
        (["export", "mlflow", "nosuchrun"], "no run 'nosuchrun'"),
        (["export", "mlflow", "--all", "--where", "f1 >"], "--where 'f1 >'"),
        (["run", "train.ipynb", "--track", "neptune"], "--track 'neptune': unknown target"),
    ],
    ids=[
        "no-selection",
        "logdir-for-mlflow",
        "project-for-tb",
        "uri-for-wandb",
        "bad-status",
        "unknown-run",
        "bad-where",
        "unknown-track",
    ],
)
def test_bad_usage_is_one_line_exit_2(
    project: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(p.name for p in (project / "runs").iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert sorted(p.name for p in (project / "runs").iterdir()) == before


@pytest.mark.parametrize(
    ("target", "extra"), [("mlflow", "mlflow"), ("tensorboard", "tensorboard"), ("wandb", "wandb")]
)
def test_missing_extra_names_the_pip_install(
    project: Path,
    target: str,
    extra: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for module in ("mlflow", "mlflow.tracking", "tensorboardX", "wandb"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    assert main(["export", target, "--all"]) == 2
    err = capsys.readouterr().err
    assert f"pip install 'mlops-nb[{extra}]'" in err
    assert not (project / "runs" / "exports.sqlite").exists()


def test_dry_run_needs_no_sdk_and_writes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)
    assert main(["export", "mlflow", "--pipeline", "tiny", "--dry-run"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    kinds = [line.split()[1] for line in lines[:-1]]
    assert kinds == ["pipeline", "sweep", "run", "run", "run"]  # parents first
    assert all(line.startswith("new") for line in lines[:-1])
    assert lines[-1] == "mlflow: 5 new"
    assert not (project / "runs" / "exports.sqlite").exists()
    assert not (project / "mlflow.db").exists()


def test_selection_like_collect(project: Path) -> None:
    res = mlops_nb.export("mlflow", dry_run=True, status="failed,timeout")
    runs = [e.key for e in res.entries if e.kind == "run"]
    assert len(runs) == 2
    res = mlops_nb.export("mlflow", dry_run=True, where="f1 > 0.75")
    assert [e.kind for e in res.entries] == ["pipeline", "sweep", "sweep", "run", "run"]
    res = mlops_nb.export("mlflow", ["single"], dry_run=True, notebook="train.ipynb")
    assert [e.key.split("-")[-1] for e in res.entries] == ["single"]


def test_plugin_export_is_idempotent_and_parents_come_first(project: Path, plugin: str) -> None:
    first = mlops_nb.export(plugin, all_runs=True)
    assert first.count("created") == 11 and first.ok
    files = {p.name: json.loads(p.read_text()) for p in (project / "json-exports").iterdir()}
    by_key = {d["key"]: d for d in files.values()}
    train_runs = [d for k, d in by_key.items() if k.endswith("-train")]
    assert len(train_runs) == 2
    for d in train_runs:  # pipeline -> sweep -> run
        sweep = next(
            s
            for s in by_key.values()
            if s["key"].startswith("sweep:")
            and f"{s['key'].replace(':', '_').replace('@', '_')}.json" == d["parent"]
        )
        assert sweep["parent"].startswith("pipeline_")
    second = mlops_nb.export(plugin, all_runs=True)
    assert second.count("unchanged") == 11 and second.count("created") == 0


def test_plugin_failure_mid_way_is_a_partial_export_exit_1(
    project: Path, plugin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JSONFILES_FAIL", "broken")
    assert main(["export", plugin, "--all"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stopped at run:" in err[0] and "Run the same command again" in err[0]
    monkeypatch.delenv("JSONFILES_FAIL")
    res = mlops_nb.export(plugin, all_runs=True)
    # what was sent before the failure is not sent again; the rest is
    assert res.count("unchanged") >= 3 and res.count("unchanged") + res.count("created") == 11


def test_partial_export_raises_from_python(
    project: Path, plugin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JSONFILES_FAIL", "sweep:")
    with pytest.raises(PartialExport):
        mlops_nb.export(plugin, all_runs=True)


def test_track_table_in_pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.mlops-nb.track]
            mlflow = "sqlite:///db/mlflow.db"
            tensorboard = "tb/"
            wandb = false

            [tool.mlops-nb.track.jsonfiles]
            logdir = "out"
            """
        )
    )
    nb = tmp_path / "sub" / "train.ipynb"
    nb.parent.mkdir()
    monkeypatch.delenv("MLOPS_NB_TRACK", raising=False)
    assert track.targets_for(nb) == {
        "mlflow": {"tracking_uri": f"sqlite:///{tmp_path}/db/mlflow.db"},
        "tensorboard": {"logdir": str(tmp_path / "tb/")},
        "jsonfiles": {"logdir": str(tmp_path / "out")},
    }
    monkeypatch.setenv("MLOPS_NB_TRACK", "wandb")
    assert track.targets_for(nb)["wandb"] == {}


def test_track_flag_is_passed_on_and_restored(plugin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_NB_TRACK", "tensorboard")
    with track.requested([plugin]):
        assert track.targets_for(Path("/")).keys() >= {"tensorboard", plugin}
    assert track.targets_for(Path("/")) == {"tensorboard": {}}


def test_track_with_a_missing_extra_refuses_before_running(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)
    before = sorted(p.name for p in (project / "runs").iterdir())
    assert main(["run", "train.ipynb", "--track", "mlflow"]) == 2
    assert "pip install 'mlops-nb[mlflow]'" in capsys.readouterr().err
    assert sorted(p.name for p in (project / "runs").iterdir()) == before


def test_the_executors_share_the_plugin_lookup() -> None:
    from mlops_nb.errors import UsageError
    from mlops_nb.sweep import executors

    with pytest.raises(UsageError, match=r"unknown executor 'nope'\. Valid executors: .*serial"):
        executors.make("nope")
    assert {"serial", "local", "dask"} <= set(executors.available())


def test_sweep_track_exports_each_run_from_the_workers(
    project: Path, plugin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "grid.yaml").write_text("lr: [0.05, 0.15]\n")
    argv = ["sweep", "train.ipynb", "--grid", "grid.yaml", "--workers", "2", "--quiet"]
    assert main([*argv, "--track", plugin]) == 0
    keys = {json.loads(p.read_text())["key"] for p in (project / "json-exports").iterdir()}
    assert sum(k.startswith("run:") for k in keys) == 2
    assert sum(k.startswith("sweep:") for k in keys) == 1
    # a tracking failure is a warning; the runs succeed
    monkeypatch.setenv("JSONFILES_FAIL", "run:")
    assert main(["run", "train.ipynb", "-p", "lr", "0.45", "--track", plugin]) == 0
    err = capsys.readouterr().err
    assert "was not tracked in jsonfiles" in err and f"mlops-nb export {plugin}" in err
    # in another store, the command to send it later names that store
    assert main(["run", "train.ipynb", "--track", plugin, "--runs-dir", "elsewhere"]) == 0
    (run_id,) = [p.name for p in (project / "elsewhere").iterdir() if p.is_dir()]
    assert f"`mlops-nb export {plugin} {run_id} --runs-dir elsewhere`" in capsys.readouterr().err


def test_a_sweep_that_got_more_runs_is_updated(project: Path, plugin: str) -> None:
    swept = mlops_nb.sweep("train.ipynb", {"lr": [0.05]}, workers=1)
    first = mlops_nb.export(plugin, sweep=swept.id, notebook="train.ipynb")
    assert first.ok and mlops_nb.export(plugin, all_runs=True).count("updated") == 0
    mlops_nb.sweep("train.ipynb", {"lr": [0.05]}, workers=1, force=True)  # same sweep, a new run
    again = mlops_nb.export(plugin, all_runs=True)
    assert [e.kind for e in again.entries if e.action == "updated"] == ["sweep"]
    assert again.count("created", kind="run") == 1


def test_lost_runs_are_exported_not_left_out_as_running(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run whose driver died reads ``lost``: it is over, so it is exported (its pipeline
    counts as failed), not left out as "still running"."""
    from tests.tracking.store import make_lost

    runs = project / "runs"
    lost = make_lost(runs, "json_extract(pipeline, '$.step') = 'prep'")
    monkeypatch.setitem(sys.modules, "mlflow", None)  # the selection needs no SDK
    res = mlops_nb.export("mlflow", dry_run=True, pipeline="tiny")
    assert res.not_final == []
    assert [e.key for e in res.entries if e.kind == "run" and e.action == "new"].count(
        f"run:{lost}"
    ) == 1
    ents = {e.key: e for e in model.entities(runs, index.query_rows(runs))}
    run = ents[f"run:{lost}"]
    assert run.status == "lost" and run.ended_at and run.ended_at >= str(run.started_at)
    assert ents[str(run.parent)].status == "failed"
    assert main(["export", "mlflow", "--pipeline", "tiny", "--dry-run"]) == 0
    assert "still running" not in capsys.readouterr().out


def test_the_send_it_later_hint_carries_the_tracked_settings(tmp_path: Path) -> None:
    """Pasted as printed, it exports where the run was to go, not to the defaults."""
    import shlex

    from mlops_nb.tracking.track import export_hint

    folder = tmp_path / "st 4" / "20261130T000000.000000Z-abcdef"
    options = {"tracking_uri": "sqlite:////x/ml.db", "experiment": "churn", "dir": "/w"}
    hint = export_hint("mlflow", folder, options)
    command, rest = hint.split("`")[1], hint.split("`")[2]
    assert shlex.split(command) == [
        "mlops-nb",
        "export",
        "mlflow",
        folder.name,
        "--tracking-uri",
        "sqlite:////x/ml.db",
        "--experiment",
        "churn",
        "--runs-dir",
        str(folder.parent),
    ]
    assert rest == " (settings it takes no flag for: dir)"
    assert export_hint("tensorboard", folder, {"logdir": "/t b"}).count("--logdir '/t b'") == 1
