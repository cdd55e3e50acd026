"""Automatic tracking: export each run to tracking systems as soon as its record is final.

Targets come from ``[tool.mlops-nb.track]`` in the nearest ``pyproject.toml`` above the notebook
and from ``--track TARGET`` on ``run``, ``sweep`` and ``pipeline run`` (passed to worker processes
in ``$MLOPS_NB_TRACK``, comma-separated)::

    [tool.mlops-nb.track]
    mlflow = "sqlite:///mlflow.db"      # the tracking URI; a relative SQLite path is relative to
    tensorboard = "tb/"                 # this file's folder, and so is a log directory
    wandb = "my-project"                # the W&B project (offline)
    # or a table of the target's options:
    # [tool.mlops-nb.track.mlflow]
    # tracking-uri = "http://127.0.0.1:5000"
    # experiment = "churn"
    # artifacts = "notebook"

A run, its sweep and its pipeline invocation are exported exactly as ``mlops-nb export`` would
(the same exports table, so a later ``export`` sends nothing twice). Tracking never fails a run:
a failure is a one-line warning naming the command that sends the run later.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_nb.errors import ConfigError, MlopsNbError, UsageError
from mlops_nb.store.hints import command

log = logging.getLogger(__name__)
ENV = "MLOPS_NB_TRACK"
# the option a plain string value sets, per built-in target
MAIN_OPTION = {"mlflow": "tracking_uri", "tensorboard": "logdir", "wandb": "project"}
PATH_OPTIONS = frozenset({"logdir", "dir"})
SDK = {
    "mlflow": ("mlflow", "mlflow"),
    "tensorboard": ("tensorboardX", "tensorboard"),
    "wandb": ("wandb", "wandb"),
}


@contextlib.contextmanager
def requested(targets: Sequence[str] | None) -> Iterator[None]:
    """While inside, runs started from this process (and its workers) are tracked in
    ``targets`` too. Unknown targets and missing extras are refused before anything runs."""
    if not targets:
        yield
        return
    from mlops_nb.errors import missing_extra
    from mlops_nb.tracking.registry import available

    names = [t.strip() for item in targets for t in item.split(",") if t.strip()]
    valid = available()
    for name in names:
        if name not in valid:
            raise UsageError(
                f"--track {name!r}: unknown target. Valid targets: {', '.join(valid)}."
            )
        module, extra = SDK.get(name, (None, ""))
        if module and importlib.util.find_spec(module) is None:
            raise missing_extra(module, extra, f"--track {name}")
    before = os.environ.get(ENV)
    os.environ[ENV] = ",".join(dict.fromkeys([*(before or "").split(","), *names]).keys()).strip(
        ","
    )
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before


def targets_for(notebook: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """``{target: export options}`` for runs of ``notebook``: pyproject settings, then the
    targets of ``$MLOPS_NB_TRACK`` (with their pyproject options when both name them)."""
    from mlops_nb.config import ConfigFinder, normalize_keys

    pyproject, table = ConfigFinder().section(notebook, "track")
    base = pyproject.parent if pyproject else Path.cwd()
    out: dict[str, dict[str, Any]] = {}
    for name, value in table.items():
        if value is False:
            continue
        where = f"{pyproject}: [tool.mlops-nb.track] {name}"
        if isinstance(value, str):
            opts: dict[str, Any] = {MAIN_OPTION.get(name, "destination"): value}
        elif value is True:
            opts = {}
        elif isinstance(value, Mapping):
            opts = normalize_keys(value)
        else:
            raise ConfigError(f"{where}: give a string, true or a table of options.")
        out[name] = _resolve_paths(opts, base)
    for name in filter(None, os.environ.get(ENV, "").split(",")):
        out.setdefault(name, {})
    return out


def _resolve_paths(opts: dict[str, Any], base: Path) -> dict[str, Any]:
    out = dict(opts)
    for key in PATH_OPTIONS & out.keys():
        out[key] = str(base / str(out[key]))
    uri = out.get("tracking_uri")
    prefix = "sqlite:///"
    if isinstance(uri, str) and uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        out["tracking_uri"] = prefix + str(base / uri[len(prefix) :])
    return out


# the options `mlops-nb export` takes as flags (--tracking-uri ...), of a target's settings
_EXPORT_FLAGS = ("tracking_uri", "experiment", "artifacts", "logdir", "project", "mode")


def export_hint(target: str, folder: Path, options: Mapping[str, Any]) -> str:
    """The ``mlops-nb export`` command that sends run ``folder`` to ``target`` with the settings
    it was tracked with (``options``, from ``[tool.mlops-nb.track]``), in backquotes; settings
    that the command takes no flag for are named after it."""
    flags = [
        word
        for key in _EXPORT_FLAGS
        if options.get(key) is not None
        for word in (f"--{key.replace('_', '-')}", str(options[key]))
    ]
    hint = f"`{command('export', target, folder.name, *flags, runs_dir=folder.parent)}`"
    rest = sorted(k for k in options if k not in _EXPORT_FLAGS)
    return hint + (f" (settings it takes no flag for: {', '.join(rest)})" if rest else "")


def after_run(folder: Path, record: Mapping[str, Any]) -> None:
    """Export one finished run to every configured target; never raises (warns instead)."""
    from mlops_nb import output

    notebook = (record.get("notebook") or {}).get("abspath") or (record.get("notebook") or {}).get(
        "path"
    )
    try:
        targets = targets_for(notebook or folder)
    except MlopsNbError as e:
        output.notice(f"warning: run {folder.name} not tracked: {e.message}")
        return
    for target, options in targets.items():
        try:
            from mlops_nb.tracking.api import export

            export(target, [folder.name], runs_dir=folder.parent, **options)
        except Exception as e:  # tracking never fails a run
            message = e.message if isinstance(e, MlopsNbError) else f"{type(e).__name__}: {e}"
            log.debug("tracking %s in %s failed", folder.name, target, exc_info=True)
            output.notice(
                f"warning: run {folder.name} was not tracked in {target}: {message} "
                f"(the run is recorded; send it later with {export_hint(target, folder, options)})"
            )
