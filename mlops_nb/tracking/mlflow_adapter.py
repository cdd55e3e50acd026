"""The MLflow adapter: runs, sweeps and pipeline invocations as MLflow runs (``pip install
'mlops-nb[mlflow]'``).

Mapping (MLflow docs, "Tracking" and "System tags"): one experiment per pipeline or notebook
(``--experiment`` overrides); a pipeline invocation, a sweep and a run are runs, nested through
the ``mlflow.parentRunId`` tag; original start/end times; status ok → FINISHED, failed/lost → FAILED,
timeout/interrupted → KILLED; parameters as params (non-strings as JSON, ``output_dir`` left out,
values cut at MLflow's 6,000 characters); numeric and boolean scraps as metrics, string scraps as
tags; ``mlflow.source.*`` tags for the notebook and git; ``mlops_nb.*`` tags for the ids; input
files as dataset inputs (digest = the first 32 hex of their sha256, the full hash in an input tag);
artifacts: the output notebook, the run's artifacts, ``run.json`` and ``environment.json``.

Uses ``MlflowClient`` (not the fluent API, which keeps a global active run and cannot set a
start time). Every run carries the tag ``mlops_nb.entity``; before creating, the exporter looks
runs up by it, so an export killed mid-way is completed, never duplicated.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_nb.errors import missing_extra
from mlops_nb.store import runs as store
from mlops_nb.tracking.content import LEFT_OUT, artifact_files, artifacts_choice, millis
from mlops_nb.tracking.mlflow_uri import default_uri, new_sqlite_store, normalize_uri
from mlops_nb.tracking.model import Entity
from mlops_nb.tracking.registry import ExportError, check_options

OPTIONS = ("tracking_uri", "experiment", "artifacts")
# lost (its driver died: killed, crashed, out of memory) → FAILED: MLflow's KILLED is a run
# stopped on purpose (mlflow.entities.RunStatus), as a timeout or an interrupt is.
STATUS = {
    "ok": "FINISHED",
    "failed": "FAILED",
    "timeout": "KILLED",
    "interrupted": "KILLED",
    "lost": "FAILED",
}
MAX_PARAM = 6000  # MLflow's limit on a param value (mlflow.utils.validation)
MAX_TAG = 8000  # ... and on a tag value
BATCH = 100  # log_batch takes at most 100 params and 100 tags per call
ENTITY_TAG = "mlops_nb.entity"


def param_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:MAX_PARAM]


@contextlib.contextmanager
def _settings(retries: int) -> Iterator[None]:
    """MLflow environment settings while exporting; the user's own values win.

    An unreachable server answers after ``retries`` retries instead of MLflow's 7 with backoff
    (about two minutes), and MLflow does not print "View run at" lines into our output
    (``mlflow/environment_variables.py``)."""
    wanted = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(retries),
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    }
    saved = {k: os.environ.get(k) for k in wanted}
    for k, v in wanted.items():
        os.environ.setdefault(k, v)
    try:
        yield
    finally:
        for k, old in saved.items():
            if old is None:
                os.environ.pop(k, None)


class MlflowExporter:
    """Exports to one MLflow tracking URI (a SQLite store or a tracking server)."""

    name = "mlflow"

    def __init__(
        self,
        *,
        runs_dir: Path,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        artifacts: str | None = None,
        **others: Any,
    ) -> None:
        check_options(self.name, others, OPTIONS)
        self.runs_dir = Path(runs_dir)
        self.uri = normalize_uri(tracking_uri) if tracking_uri else default_uri(self.runs_dir)
        self.experiment = experiment
        self.artifacts = artifacts_choice(artifacts)
        self._client: Any = None
        self._experiments: dict[str, str] = {}
        self._found: dict[str, tuple[str, str]] = {}  # entity -> (run id, artifact uri)

    def destination(self, entity: Entity) -> str:
        return f"{self.uri}#{self.experiment or entity.group}"

    # -- connecting ----------------------------------------------------------------------------
    def connect(self, entities: Sequence[Entity]) -> None:
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise missing_extra("mlflow", "mlflow", "export mlflow") from None
        with _settings(retries=0):
            try:
                new_sqlite_store(self.uri)
                self._client = MlflowClient(tracking_uri=self.uri)
                self._client.search_experiments(max_results=1)
            except Exception as e:
                raise ExportError(
                    f"cannot reach the MLflow tracking store {self.uri}: {_why(e)}. Check "
                    "--tracking-uri (or MLFLOW_TRACKING_URI) and that the server is running."
                ) from None

        # Experiments are checked (and made) now: one that keeps its artifacts elsewhere stops
        # the export before the runs store is touched.
        for group in sorted({self.experiment or e.group for e in entities}):
            self._experiment(group)

    def begin(self, todo: Sequence[Entity]) -> None:
        # Under the export lock: even an experiment this export made may hold runs by now (a
        # concurrent export that won the lock first, perhaps killed before it wrote them down).
        for group in sorted({self.experiment or e.group for e in todo}):
            exp_id, _ = self._experiment(group)
            self._find_existing(exp_id)

    def _artifact_root(self, name: str) -> str | None:
        """Where a new experiment keeps artifacts: beside a SQLite store (``mlruns/NAME``), not
        under the current directory (MLflow's default); a server decides for itself."""
        if not self.uri.startswith("sqlite:///"):
            return None
        db = Path(self.uri[len("sqlite:///") :])
        return (db.parent / "mlruns" / (store.slug(name) or "experiment")).as_uri()

    def _experiment(self, name: str) -> tuple[str, bool]:
        if name in self._experiments:
            return self._experiments[name], False
        want = self._artifact_root(name)
        with _settings(retries=0):
            try:
                exp = self._client.get_experiment_by_name(name)
                if exp is None:
                    exp_id, exp = self._create_experiment(name, want)
                    if exp_id is not None:
                        self._experiments[name] = exp_id
                        return exp_id, True
            except Exception as e:
                raise ExportError(f"MLflow experiment {name!r} at {self.uri}: {_why(e)}.") from None
        if exp.lifecycle_stage != "active":
            raise ExportError(
                f"MLflow experiment {name!r} at {self.uri} is deleted. Restore it "
                f"(`mlflow experiments restore --experiment-id {exp.experiment_id}`) or "
                "choose another name with --experiment."
            )
        if want is not None and exp.artifact_location.rstrip("/") != want.rstrip("/"):
            raise ExportError(
                f"MLflow experiment {name!r} at {self.uri} keeps its artifacts at "
                f"{exp.artifact_location}, not at {want} where mlops-nb puts them. "
                "Export into another experiment with --experiment NAME."
            )
        self._experiments[name] = exp.experiment_id
        return str(exp.experiment_id), False

    def _create_experiment(self, name: str, want: str | None) -> tuple[str | None, Any]:
        """``(id, None)`` for an experiment made now, or ``(None, experiment)`` when another
        process (a concurrent export) made one of that name first: names are unique in an MLflow
        store, so the loser's create fails (SQLite: UNIQUE constraint; server:
        RESOURCE_ALREADY_EXISTS) and it uses the winner's. Raises what MLflow raised otherwise."""
        try:
            return str(self._client.create_experiment(name, artifact_location=want)), None
        except Exception:
            exp = self._client.get_experiment_by_name(name)
            if exp is None:
                raise
            return None, exp

    def _find_existing(self, exp_id: str) -> None:
        """Runs an earlier (perhaps killed) export created, by their entity tag."""
        token = None
        while True:
            page = self._client.search_runs(
                [exp_id],
                filter_string=f"tags.`{ENTITY_TAG}` LIKE '%'",
                max_results=10000,
                page_token=token,
            )
            for run in page:
                key = run.data.tags.get(ENTITY_TAG)
                if key and key not in self._found:
                    self._found[key] = (run.info.run_id, run.info.artifact_uri)
            token = page.token
            if not token:
                return

    # -- sending --------------------------------------------------------------------------------
    def put(self, entity: Entity, parent: str | None) -> tuple[str, str]:
        try:
            with _settings(retries=2):
                return self._put(entity, parent)
        except ExportError:
            raise
        except Exception as e:  # MLflow, SQLAlchemy, requests, OS errors: all mean "not sent"
            raise ExportError(f"MLflow at {self.uri} refused {entity.key}: {_why(e)}.") from None

    def _put(self, entity: Entity, parent: str | None) -> tuple[str, str]:
        exp_id, _ = self._experiment(self.experiment or entity.group)
        tags = self._tags(entity, parent)
        record = entity.record() if entity.kind == "run" else None
        if record is not None:
            tags.update(_run_tags(record))
            for k, v in (record.get("scraps") or {}).items():
                if isinstance(v, str):
                    tags.setdefault(k, v)
        tags = {k: v[:MAX_TAG] for k, v in tags.items()}
        found = self._found.get(entity.key)
        if found is not None:
            run_id, artifact_uri = found
            action = "completed"
        else:
            run = self._client.create_run(
                exp_id, start_time=millis(entity.started_at), tags=tags, run_name=entity.name
            )
            run_id, artifact_uri = run.info.run_id, run.info.artifact_uri
            self._found[entity.key] = (run_id, artifact_uri)
            action = "created"
        if record is not None:
            self._log_run(run_id, artifact_uri, entity, record, tags, fresh=action == "created")
        elif action != "created":
            from mlflow.entities import RunTag

            self._log_batch(run_id, [], [], [RunTag(k, v) for k, v in tags.items()])
        if entity.status in STATUS:
            self._client.set_terminated(
                run_id, STATUS[entity.status], end_time=millis(entity.ended_at)
            )
        else:
            self._client.update_run(run_id, status="RUNNING")
        return run_id, action

    def _tags(self, entity: Entity, parent: str | None) -> dict[str, str]:
        tags = {"mlflow.runName": entity.name, ENTITY_TAG: entity.key, "mlops_nb.kind": entity.kind}
        tags.update({f"mlops_nb.{k}": v for k, v in entity.labels.items() if v})
        if parent:
            tags["mlflow.parentRunId"] = parent
        if entity.kind == "sweep" and entity.labels.get("notebook"):
            tags["mlflow.source.name"] = entity.labels["notebook"]
        return tags

    def _log_run(
        self,
        run_id: str,
        artifact_uri: str,
        entity: Entity,
        record: Mapping[str, Any],
        tags: dict[str, str],
        *,
        fresh: bool,
    ) -> None:
        from mlflow.entities import Metric, Param, RunTag

        params = {
            k: param_value(v) for k, v in (record.get("params") or {}).items() if k not in LEFT_OUT
        }
        ts = millis(entity.ended_at) or millis(entity.started_at) or 0
        metrics = {
            k: float(v)
            for k, v in (record.get("scraps") or {}).items()
            if isinstance(v, (int, float))
        }
        if not fresh:  # completing: MLflow keeps params immutable and appends metric history
            have = self._client.get_run(run_id).data
            params = {k: v for k, v in params.items() if k not in have.params}
            metrics = {k: v for k, v in metrics.items() if k not in have.metrics}
        self._log_batch(
            run_id,
            [Param(k, v) for k, v in params.items()],
            [Metric(k, v, ts, 0) for k, v in metrics.items()],
            # a new run got its tags from create_run, in the same transaction
            [] if fresh else [RunTag(k, v) for k, v in tags.items()],
        )
        self._log_inputs(run_id, record, fresh=fresh)
        self._log_artifacts(artifact_uri, entity, record)

    def _log_batch(
        self, run_id: str, params: list[Any], metrics: list[Any], tags: list[Any]
    ) -> None:
        while params or metrics or tags:
            self._client.log_batch(
                run_id,
                metrics=metrics[: 1000 - 2 * BATCH],
                params=params[:BATCH],
                tags=tags[:BATCH],
            )
            params, metrics, tags = params[BATCH:], metrics[1000 - 2 * BATCH :], tags[BATCH:]

    def _log_inputs(self, run_id: str, record: Mapping[str, Any], *, fresh: bool) -> None:
        from mlflow.entities import Dataset, DatasetInput, InputTag

        inputs = []
        for path, info in sorted((record.get("inputs") or {}).items()):
            sha = info.get("sha256") if isinstance(info, Mapping) else None
            if not isinstance(sha, str):
                continue
            ds = Dataset(
                name=Path(path).name or path,
                digest=sha[:32],
                source_type="local",
                source=json.dumps({"uri": str(path)}),
                profile=json.dumps({"size": info.get("size")}),
            )
            tags = [InputTag("mlflow.data.context", "input"), InputTag("mlops_nb.sha256", sha)]
            inputs.append(DatasetInput(ds, tags))
        if inputs and fresh:
            self._client.log_inputs(run_id, datasets=inputs)
        elif inputs:
            have = {d.dataset.digest for d in self._client.get_run(run_id).inputs.dataset_inputs}
            todo = [d for d in inputs if d.dataset.digest not in have]
            if todo:
                self._client.log_inputs(run_id, datasets=todo)

    def _log_artifacts(self, artifact_uri: str, entity: Entity, record: Mapping[str, Any]) -> None:
        if self.artifacts == "none" or entity.folder is None:
            return
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        # The repository straight from the run's artifact URI: MlflowClient.log_artifact looks
        # the run up again for every file.
        files = artifact_files(entity.folder, record, self.artifacts)
        if artifact_uri.startswith(("file:", "/")):
            repo = get_artifact_repository(artifact_uri)
            for local, dest in files:
                repo.log_artifact(str(local), dest)
            return
        # a server's mlflow-artifacts: URI is resolved against the client's tracking URI
        run_id = self._found[entity.key][0]
        for local, dest in files:
            self._client.log_artifact(run_id, str(local), dest)

    def close(self) -> None:
        self._client = None


def _why(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:300].rstrip(".")


def _run_tags(record: Mapping[str, Any]) -> dict[str, str]:
    """MLflow's own source tags and mlops-nb's ids for one run record."""
    nb = record.get("notebook") or {}
    git = record.get("git") or {}
    pipe = record.get("pipeline") or {}
    tags = {
        "mlflow.source.name": str(nb.get("path") or ""),
        "mlflow.source.type": "NOTEBOOK",
        "mlops_nb.notebook": str(nb.get("path") or ""),
        "mlops_nb.code_sha256": str(nb.get("code_sha256") or ""),
        "mlops_nb.key": str(record.get("key") or ""),
        "mlops_nb.status": str(record.get("status")),
        "mlops_nb.name": str(record.get("name") or ""),
    }
    if isinstance(git, Mapping) and git.get("commit"):
        tags["mlflow.source.git.commit"] = str(git["commit"])
        tags["mlflow.source.git.branch"] = str(git.get("branch") or "")
        tags["mlops_nb.git_dirty"] = str(bool(git.get("dirty"))).lower()
    if isinstance(pipe, Mapping) and pipe.get("upstream"):
        tags["mlops_nb.upstream"] = json.dumps(pipe["upstream"], sort_keys=True)
        for step, rid in pipe["upstream"].items():
            tags[f"mlops_nb.upstream.{step}"] = str(rid)
    err = record.get("error")
    if isinstance(err, Mapping):
        line = f"{err.get('ename')}: {err.get('evalue')}"
        tags["mlops_nb.error"] = line
        tags["mlflow.note.content"] = line
    return {k: v for k, v in tags.items() if v}
