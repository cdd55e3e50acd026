"""The TensorBoard adapter: one event-file folder per run (``pip install 'mlops-nb[tensorboard]'``).

Layout under the log directory: ``<pipeline or notebook>/[<pipeline invocation>/][<sweep>/]<run
id>/``, so TensorBoard's run selector shows the hierarchy. Each run folder holds one event file
written with tensorboardX: numeric and boolean scraps as scalars (step 0, the run's end as wall
time), string scraps, the notebook path and the status as text, and the HParams plugin's session
start/end summaries (parameters as hparams, the run's status as the session status), so the
HParams dashboard compares a sweep's runs. No experiment summary is written: TensorBoard then
builds the experiment from all sessions (tensorboard ``plugins/hparams/backend_context.py``),
which lists every parameter of every run, whenever each was exported.

A run is written into a hidden scratch folder and renamed into place when complete, so a killed
export leaves no half-written run; the next export removes the scratch and writes the run again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_nb.errors import missing_extra
from mlops_nb.store import runs as store
from mlops_nb.tracking.content import LEFT_OUT, millis
from mlops_nb.tracking.model import Entity
from mlops_nb.tracking.registry import ExportError, check_options

OPTIONS = ("logdir",)
SCRATCH = ".mlops-nb-partial"
# tensorboard plugins/hparams/api.proto Status (tensorboardX's copy has no STATUS_ABORTED): a
# run stopped by a timeout or an interrupt, or lost, did not succeed.
SESSION_STATUS = {
    "ok": "STATUS_SUCCESS",
    "failed": "STATUS_FAILURE",
    "timeout": "STATUS_FAILURE",
    "interrupted": "STATUS_FAILURE",
    "lost": "STATUS_FAILURE",
}


def hparam_value(value: Any) -> str | float | bool:
    """An HParams value: numbers, booleans and strings as they are, anything else as JSON."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return json.dumps(value, ensure_ascii=False, default=str)


class TensorBoardExporter:
    """Writes event files into one log directory."""

    name = "tensorboard"

    def __init__(self, *, runs_dir: Path, logdir: str | None = None, **others: Any) -> None:
        check_options(self.name, others, OPTIONS)
        base = Path(logdir) if logdir else Path(runs_dir).resolve().parent / "tensorboard"
        self.logdir = base.resolve()

    def destination(self, entity: Entity) -> str:
        return str(self.logdir)

    def connect(self, entities: Sequence[Entity]) -> None:
        try:
            import tensorboardX  # noqa: F401
        except ImportError:
            raise missing_extra("tensorboardX", "tensorboard", "export tensorboard") from None
        try:
            self.logdir.mkdir(parents=True, exist_ok=True)
            probe = self.logdir / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise ExportError(
                f"cannot write TensorBoard logs into {self.logdir}: {e.strerror or e}. "
                "Choose another --logdir."
            ) from None

    def begin(self, todo: Sequence[Entity]) -> None:
        # Under the store's export lock: scratch folders left by killed exports are abandoned.
        shutil.rmtree(self.logdir / SCRATCH, ignore_errors=True)

    def put(self, entity: Entity, parent: str | None) -> tuple[str, str]:
        rel = f"{parent or _safe(entity.group)}/{_safe(entity.name)}"
        final = self.logdir / rel
        try:
            if entity.kind != "run":  # a folder holding its runs' folders
                existed = final.is_dir()
                final.mkdir(parents=True, exist_ok=True)
                return rel, "completed" if existed else "created"
            if final.is_dir():  # renamed into place by an export killed before it said so
                return rel, "completed"
            scratch = self.logdir / SCRATCH / uuid.uuid4().hex
            scratch.mkdir(parents=True)
            self._write(scratch, entity, entity.record())
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(scratch, final)
        except OSError as e:
            raise ExportError(f"cannot write {final}: {e.strerror or e}.") from None
        return rel, "created"

    def _write(self, folder: Path, entity: Entity, record: Mapping[str, Any]) -> None:
        from tensorboardX import SummaryWriter

        end = (millis(entity.ended_at) or 0) / 1000
        start = (millis(entity.started_at) or 0) / 1000
        scraps = record.get("scraps") or {}
        metrics = {k: float(v) for k, v in scraps.items() if isinstance(v, (int, float))}
        params = {
            k: hparam_value(v) for k, v in (record.get("params") or {}).items() if k not in LEFT_OUT
        }
        writer = SummaryWriter(logdir=str(folder), flush_secs=3600)
        try:
            ssi, sei = _session(params, entity.status, start, end)
            writer.file_writer.add_summary(ssi, 0, start)
            for k, v in metrics.items():
                writer.add_scalar(k, v, 0, walltime=end)
            for k, v in scraps.items():
                if isinstance(v, str):
                    writer.add_text(k, v, 0, walltime=end)
            nb = (record.get("notebook") or {}).get("path")
            writer.add_text("mlops_nb/notebook", str(nb), 0, walltime=end)
            writer.add_text("mlops_nb/status", _status_line(record), 0, walltime=end)
            writer.file_writer.add_summary(sei, 0, end)
        finally:
            writer.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):  # only when empty: TensorBoard need not see it
            (self.logdir / SCRATCH).rmdir()


def _session(params: Mapping[str, Any], status: str, start: float, end: float) -> tuple[Any, Any]:
    """HParams session start/end summaries (tensorboard ``plugins/hparams/summary.py``'s
    ``session_start_pb``/``session_end_pb``, built with tensorboardX's copies of its protos)."""
    from tensorboardX.proto.api_pb2 import Status
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.summary import hparams

    _, ssi, _ = hparams(dict(params), {})
    data = HParamsPluginData()
    data.ParseFromString(ssi.value[0].metadata.plugin_data.content)
    data.session_start_info.start_time_secs = start
    ssi.value[0].metadata.plugin_data.content = data.SerializeToString()
    end_data = HParamsPluginData(version=0)
    end_data.session_end_info.status = Status.Value(SESSION_STATUS.get(status, "STATUS_UNKNOWN"))
    end_data.session_end_info.end_time_secs = end
    meta = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(
            plugin_name="hparams", content=end_data.SerializeToString()
        )
    )
    sei = Summary(value=[Summary.Value(tag="_hparams_/session_end_info", metadata=meta)])
    return ssi, sei


def _status_line(record: Mapping[str, Any]) -> str:
    err = record.get("error")
    if isinstance(err, Mapping):
        return f"{record.get('status')}: {err.get('ename')}: {err.get('evalue')}"
    return str(record.get("status"))


def _safe(name: str) -> str:
    return store.slug(name) or "run"
