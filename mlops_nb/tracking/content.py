"""What every exporter sends of a run, whatever the tracking system: its times in milliseconds,
the parameters left out, and the files sent as artifacts (never outside the run's folder)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_nb.store import runs as store
from mlops_nb.tracking.registry import ExportError

ARTIFACTS = ("all", "notebook", "none")
# the folder a run writes its artifacts to (execution.outputs): a path on the machine that ran it
LEFT_OUT = frozenset({"output_dir"})


def artifacts_choice(artifacts: str | None) -> str:
    """``--artifacts``: which files an exporter sends (``all`` when not given); another value is
    an ``ExportError`` naming the choices."""
    if artifacts is None:
        return "all"
    if artifacts not in ARTIFACTS:
        raise ExportError(f"--artifacts {artifacts!r}: choose from {', '.join(ARTIFACTS)}.")
    return artifacts


def millis(iso: str | None) -> int | None:
    """An ISO 8601 time (``Z`` or an offset) as milliseconds since the epoch; None stays None."""
    if not iso:
        return None
    return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def artifact_files(
    folder: Path, record: Mapping[str, Any], which: str
) -> list[tuple[Path, str | None]]:
    """``[(file, folder inside the remote artifacts or None)]`` of a run: its output notebook,
    then (``all``) its record, environment and the files it wrote, never outside its folder."""
    names = [store.OUTPUT] if which in ("all", "notebook") else []
    if which == "all":
        names += [store.RECORD, store.ENVIRONMENT]
    out: list[tuple[Path, str | None]] = [
        (folder / n, None) for n in names if (folder / n).is_file()
    ]
    if which != "all":
        return out
    root = folder.resolve()
    for rel in sorted(record.get("artifacts") or {}):
        p = (folder / rel).resolve()
        if p.is_file() and p.is_relative_to(root) and rel not in names:
            parent = str(Path(rel).parent)
            out.append((p, None if parent in ("", ".") else parent))
    return out
