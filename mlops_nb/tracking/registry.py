"""Exporters: one adapter module per tracking system, behind one small interface.

An exporter sends ``Entity`` values (runs, sweeps, pipeline invocations; parents first) to one
outside system and says where each landed (its remote id). ``mlflow``, ``tensorboard`` and
``wandb`` ship here; more plug in through the ``mlops_nb.exporters`` entry-point group: a callable
``(runs_dir=, **options) -> Exporter`` (for example a Neptune exporter). An exporter converts its
SDK's failures into ``ExportError``; a missing SDK is a ``MissingExtraError`` naming the extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from mlops_nb import plugins
from mlops_nb.errors import MlopsNbError, UsageError
from mlops_nb.tracking.model import Entity

ENTRY_POINT_GROUP = "mlops_nb.exporters"
EXPORTERS: dict[str, str] = {
    "mlflow": "mlops_nb.tracking.mlflow_adapter:MlflowExporter",
    "tensorboard": "mlops_nb.tracking.tensorboard_adapter:TensorBoardExporter",
    "wandb": "mlops_nb.tracking.wandb_adapter:WandbExporter",
}


class ExportError(MlopsNbError):
    """The tracking system cannot take the export (unreachable, bad URI, conflicting setup)."""


class Exporter(Protocol):
    """Sends entities to one tracking system; never changes the runs store.

    ``connect`` reaches the destination and checks it can take ``entities`` (or raises
    ``ExportError`` before anything is written, here or in the runs store);
    ``begin`` runs under the store's export lock with what is to be sent (batch look-ups);
    ``put`` creates the entity remotely, or completes one an earlier, killed export left behind,
    and returns ``(remote id, "created" | "completed" | "updated")``.
    """

    name: str

    def destination(self, entity: Entity) -> str: ...

    def connect(self, entities: Sequence[Entity]) -> None: ...

    def begin(self, todo: Sequence[Entity]) -> None: ...

    def put(self, entity: Entity, parent: str | None) -> tuple[str, str]: ...

    def close(self) -> None: ...


def available() -> list[str]:
    """Every exporter name: the built-in ones and those of installed plugins."""
    return plugins.names(ENTRY_POINT_GROUP, EXPORTERS)


def make(name: str, *, runs_dir: Path, **options: Any) -> Exporter:
    """The exporter called ``name`` (options checked, no SDK imported yet); an unknown name lists
    the valid ones."""
    factory = plugins.load(ENTRY_POINT_GROUP, EXPORTERS, name, "export target")
    exporter: Exporter = factory(runs_dir=runs_dir, **options)
    return exporter


def check_options(target: str, options: dict[str, Any], valid: Sequence[str]) -> None:
    """Refuse options that belong to another target, naming this target's own."""
    unknown = sorted(k for k, v in options.items() if v is not None and k not in valid)
    if unknown:
        flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
        own = ", ".join("--" + k.replace("_", "-") for k in valid) or "none"
        raise UsageError(f"{flags} does not apply to export {target} (its options: {own}).")
