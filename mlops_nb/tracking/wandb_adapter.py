"""The Weights & Biases adapter (``pip install 'mlops-nb[wandb]'``).

Each run becomes a W&B run (W&B docs, ``wandb.init``): id derived from the run id, ``group`` = the
sweep (else the pipeline invocation), ``job_type`` = the pipeline step (else the notebook),
``config`` = the parameters (``output_dir`` left out) plus the ids under ``mlops_nb``,
``summary`` = the scalar scraps plus the original status, start time and duration (W&B cannot set
a run's start time), ``tags`` = the status, ``notes`` = the error line; the output notebook,
record, environment and the run's artifacts as one artifact of type ``mlops-nb-run``. Sweeps and
pipeline invocations are W&B groups, not runs of their own.

Offline by default (``WANDB_MODE=offline`` semantics): run folders under ``<dir>/wandb/``, no
network; ``wandb sync <dir>/wandb/offline-run-*`` uploads them later. A folder an export killed
mid-way left behind is removed and the run written again, so ``wandb sync`` sees one copy.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_nb.errors import missing_extra
from mlops_nb.tracking.content import LEFT_OUT, artifact_files, artifacts_choice
from mlops_nb.tracking.model import Entity
from mlops_nb.tracking.registry import ExportError, check_options

OPTIONS = ("project", "mode", "dir", "artifacts")
MODES = ("offline", "online")


def wandb_id(run_id: str) -> str:
    """A W&B run id: the time-and-random part of the run id (W&B ids may not hold ``:;,#?/'``
    and are best short); unique like the run id itself."""
    stamp, _, rest = run_id.partition("-")
    return f"{stamp}-{rest.partition('-')[0]}".replace(".", "")


class WandbExporter:
    """Writes W&B runs, offline by default."""

    name = "wandb"

    def __init__(
        self,
        *,
        runs_dir: Path,
        project: str | None = None,
        mode: str | None = None,
        dir: str | None = None,
        artifacts: str | None = None,
        **others: Any,
    ) -> None:
        check_options(self.name, others, OPTIONS)
        if mode is not None and mode not in MODES:
            raise ExportError(f"--mode {mode!r}: choose from {', '.join(MODES)}.")
        self.project = project
        self.mode = mode or "offline"
        self.dir = (Path(dir) if dir else Path(runs_dir).resolve().parent).resolve()
        self.artifacts = artifacts_choice(artifacts)
        self._wandb: Any = None

    def destination(self, entity: Entity) -> str:
        return f"{self.mode}:{self.dir}#{self.project or entity.group}"

    def connect(self, entities: Sequence[Entity]) -> None:
        try:
            import wandb
        except ImportError:
            raise missing_extra("wandb", "wandb", "export wandb") from None
        try:
            (self.dir / "wandb").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ExportError(
                f"cannot write W&B runs into {self.dir}: {e.strerror or e}."
            ) from None
        self._wandb = wandb

    def begin(self, todo: Sequence[Entity]) -> None:
        pass

    def put(self, entity: Entity, parent: str | None) -> tuple[str, str]:
        if entity.kind != "run":
            return f"group:{entity.name}", "grouped"
        assert entity.run_id is not None
        wid = wandb_id(entity.run_id)
        leftovers = sorted((self.dir / "wandb").glob(f"*-run-*-{wid}"))
        for folder in leftovers:  # an export killed mid-way: write the run again, once
            shutil.rmtree(folder, ignore_errors=True)
        try:
            self._write(wid, entity, entity.record())
        except ExportError:
            raise
        except Exception as e:  # wandb raises many kinds (UsageError, CommError, ...)
            raise ExportError(
                f"W&B refused {entity.key}: {str(e).strip()[:300].rstrip('.')}."
            ) from None
        return f"{self.project or entity.group}/{wid}", "completed" if leftovers else "created"

    def _write(self, wid: str, entity: Entity, record: Mapping[str, Any]) -> None:
        wandb = self._wandb
        labels = entity.labels
        params = {k: v for k, v in (record.get("params") or {}).items() if k not in LEFT_OUT}
        nb = record.get("notebook") or {}
        ids = {
            "run_id": entity.run_id,
            "notebook": nb.get("path"),
            "code_sha256": nb.get("code_sha256"),
            "key": record.get("key"),
            "git": record.get("git"),
            **{k: v for k, v in labels.items() if k != "run_id"},
            "upstream": (record.get("pipeline") or {}).get("upstream"),
        }
        err = record.get("error")
        run = wandb.init(
            project=self.project or entity.group,
            id=wid,
            name=entity.run_id,
            group=labels.get("sweep_id") or labels.get("pipeline_run_id") or None,
            job_type=labels.get("step") or Path(str(nb.get("path") or "notebook")).stem,
            config={**params, "mlops_nb": ids},
            tags=[entity.status],
            notes=f"{err.get('ename')}: {err.get('evalue')}" if isinstance(err, Mapping) else None,
            dir=str(self.dir),
            mode=self.mode,
            resume="allow" if self.mode == "online" else None,
            reinit="create_new",
            settings=wandb.Settings(silent=True, console="off", save_code=False),
        )
        try:
            scraps = {k: v for k, v in (record.get("scraps") or {}).items() if v is not None}
            numeric = {k: v for k, v in scraps.items() if isinstance(v, (int, float))}
            if numeric:
                run.log(numeric, step=0)
            run.summary.update(
                {
                    **scraps,
                    "mlops_nb/status": entity.status,
                    "mlops_nb/started_at": entity.started_at,
                    "mlops_nb/ended_at": entity.ended_at,
                    "mlops_nb/duration_s": record.get("duration_s"),
                }
            )
            files = artifact_files(entity.folder, record, self.artifacts) if entity.folder else []
            if files:
                art = wandb.Artifact(name=f"run-{wid}", type="mlops-nb-run")
                for local, dest in files:
                    art.add_file(str(local), name=f"{dest}/{local.name}" if dest else local.name)
                run.log_artifact(art)
        finally:
            run.finish(exit_code=0 if entity.status == "ok" else 1)

    def close(self) -> None:
        if self._wandb is not None:
            self._wandb.teardown()
            self._wandb = None
