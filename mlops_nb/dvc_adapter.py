"""The DVC adapter: the DVC identity of data files, read from DVC's own YAML (no DVC import).

DVC records what it tracks in a ``<path>.dvc`` file beside the data (``dvc add``) or in a
``dvc.lock`` (outputs of ``dvc repro`` stages). Both hold, per output, ``md5`` (DVC 3: the plain
md5 of the file; a folder: ``<md5>.dir`` of its listing), ``size``, ``nfiles`` for folders and
``hash: md5`` (DVC 3; absent for DVC 2 records, whose text files were hashed with CRLF turned to
LF). Formats: https://dvc.org/doc/user-guide/project-structure/dvc-files and
https://dvc.org/doc/user-guide/project-structure/dvcyaml-files#dvclock-file.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mlops_nb import yaml_io
from mlops_nb.errors import MlopsNbError

_CHUNK = 1 << 20


def _entries(doc: Any) -> Iterator[Mapping[str, Any]]:
    """Output and dependency entries of a ``.dvc`` or ``dvc.lock`` document (a part of another
    shape than DVC writes is skipped: a broken record is DVC's to report)."""
    if not isinstance(doc, dict):
        return
    yield from _dicts(doc.get("outs"))
    stages = doc.get("stages")
    for stage in stages.values() if isinstance(stages, dict) else ():
        if isinstance(stage, dict):
            for key in ("outs", "deps"):
                yield from _dicts(stage.get(key))


def _dicts(items: Any) -> Iterator[Mapping[str, Any]]:
    return (o for o in items if isinstance(o, dict)) if isinstance(items, list) else iter(())


@functools.lru_cache(maxsize=256)
def _read(path: str, mtime_ns: int) -> Any:
    try:
        return yaml_io.load(path)
    except MlopsNbError:  # a broken .dvc file is DVC's problem; we just know nothing from it
        return None


def _lookup(record: Path, target: Path) -> dict[str, Any] | None:
    try:
        doc = _read(str(record), record.stat().st_mtime_ns)
    except OSError:
        return None
    for entry in _entries(doc):
        if not isinstance(entry.get("path"), str) or "md5" not in entry:
            continue
        if (record.parent / entry["path"]).resolve() == target:
            found = {k: entry[k] for k in ("md5", "size", "nfiles", "hash") if k in entry}
            return {**found, "file": str(record)}
    return None


def _project_root(path: Path) -> Path | None:
    for d in path.parents:
        if (d / ".dvc").is_dir():
            return d
    return None


def identity(path: Path) -> dict[str, Any] | None:
    """DVC's record of ``path`` (a file or folder), or None when DVC does not track it.

    Shape: ``{"md5", "size", "nfiles"?, "file": the .dvc/dvc.lock, "matches": bool | None}``;
    ``matches`` says whether the data on disk still has DVC's md5 (None for folders, whose
    listing hash is DVC's own format: compared by DVC itself, not here).
    """
    target = path.resolve()
    found = _lookup(target.parent / f"{target.name}.dvc", target)
    if found is None:
        root = _project_root(target)
        d = target.parent
        while found is None and root is not None and d.is_relative_to(root):
            lock = d / "dvc.lock"
            if lock.is_file():
                found = _lookup(lock, target)
            d = d.parent
    if found is None:
        return None
    found["matches"] = None if target.is_dir() else _matches(target, found)
    return found


def _matches(path: Path, entry: Mapping[str, Any]) -> bool:
    legacy = entry.get("hash") != "md5"  # DVC 2 hashed text files with CRLF normalised
    return md5_of(path, dos2unix=False) == entry["md5"] or (
        legacy and md5_of(path, dos2unix=True) == entry["md5"]
    )


def md5_of(path: Path, *, dos2unix: bool) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        if dos2unix:
            h.update(f.read().replace(b"\r\n", b"\n"))
        else:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
    return h.hexdigest()


def annotate(inputs: dict[str, dict[str, Any]], base_dirs: list[Path]) -> dict[str, dict[str, Any]]:
    """Add ``"dvc": identity`` to each input that DVC tracks (``inputs`` keyed as given)."""
    for text, digest in inputs.items():
        for base in base_dirs:
            p = Path(text) if os.path.isabs(text) else base / text
            if p.exists():
                dvc = identity(p)
                if dvc is not None:
                    digest["dvc"] = dvc
                break
    return inputs


def describe(dvc: Mapping[str, Any]) -> str:
    """One line: ``DVC md5 0a1b2c3d (data.csv.dvc)``, flagged when the data no longer match."""
    stale = "; data differ from it" if dvc.get("matches") is False else ""
    return f"DVC md5 {str(dvc.get('md5'))[:8]} ({Path(str(dvc.get('file'))).name}{stale})"
