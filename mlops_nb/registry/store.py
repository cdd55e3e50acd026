"""The model registry on disk: ``<runs>/registry/<model>.json``, one file per model name.

A model file holds its **versions** (each = a run id, the run's model artifact and its sha256),
its **aliases** (``champion``, ``challenger``, ``blue``, ``green``, ``live``, any lowercase name
→ a version), the **pending** promotions waiting for a human, and an append-only **history**
(who, when, why, which aliases went from which version to which).

Writes happen under one exclusive ``flock`` on ``<runs>/registry/.lock`` (read, change, write:
two processes promoting at once cannot lose an update) and are atomic (temp file + ``os.replace``,
fsync'd); the previous content is kept as ``<model>.json.bak``. A file that does not parse is a
``StoreError`` naming it, and nothing is written over it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlops_nb.errors import StoreError
from mlops_nb.notebook.io import atomic_write_text
from mlops_nb.registry.checks import alias_ok, doc_problem

REGISTRY_DIR = "registry"
FORMAT = 1
_MODEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_model_name(name: str) -> str:
    """``name`` if it is a safe file name (letters, digits, ``._-``); else ``StoreError``."""
    if not _MODEL_RE.match(name) or ".." in name:
        raise StoreError(
            f"invalid model name {name!r}: use letters, digits, '.', '_' and '-' "
            "(e.g. 'rare_events'), at most 64 characters."
        )
    return name


def check_alias(alias: str) -> str:
    """``alias`` if it is a lowercase name that MLflow would also accept; else ``StoreError``."""
    if not alias_ok(alias):
        raise StoreError(
            f"invalid alias {alias!r}: use a lowercase name (letters, digits, '_', '-'), "
            "e.g. champion, challenger, blue, green, live; 'latest' and 'v<N>' are reserved."
        )
    return alias


def check_case(runs_dir: Path, name: str) -> None:
    """``StoreError`` when ``name`` is not registered but a model whose name differs from it only
    in case is: ``MM`` and ``mm`` would be one file on a case-insensitive filesystem (macOS,
    Windows). Names stay case-sensitive, as in MLflow's registry, and unique regardless of case,
    as MLflow's SQL stores on MySQL and SQL Server keep them (their default collation ignores
    case: mlflow/mlflow#7857) and Unity Catalog does."""
    names = model_names(runs_dir)
    other = [n for n in names if n.casefold() == name.casefold()]
    if other and name not in names:
        raise StoreError(
            f"no model {name!r}, but model {other[0]!r} is registered: model names that "
            f"differ only in case are refused (one file on case-insensitive filesystems); "
            f"use {other[0]!r}."
        )


def registry_dir(runs_dir: Path) -> Path:
    return Path(runs_dir) / REGISTRY_DIR


def model_file(runs_dir: Path, name: str) -> Path:
    return registry_dir(runs_dir) / f"{check_model_name(name)}.json"


def empty_model(name: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "name": name,
        "versions": [],
        "aliases": {},
        "pending": [],
        "history": [],
    }


def read_model(runs_dir: Path, name: str) -> dict[str, Any] | None:
    """The model's document, or None when the model has never been registered.

    ``StoreError`` when the file is damaged, or when ``name`` differs only in case from a
    registered model (``check_case``)."""
    path = model_file(runs_dir, name)
    check_case(runs_dir, name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StoreError(f"cannot read the registry file {path}: {e.strerror}.") from None
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise StoreError(_corrupt(path, f"not valid JSON ({e})")) from None
    problem = doc_problem(doc, name)
    if problem:
        raise StoreError(_corrupt(path, problem))
    return dict(doc)


def _corrupt(path: Path, why: str) -> str:
    bak = path.with_name(path.name + ".bak")
    restore = (
        f"restore it from {bak} (the state before the last change)"
        if bak.exists()
        else ("restore it from a backup")
    )
    return f"corrupt registry file {path}: {why}; nothing was changed. Fix it or {restore}."


def write_model(runs_dir: Path, doc: dict[str, Any]) -> None:
    """Atomically replace the model's file (keeping the previous one as ``.bak``)."""
    path = model_file(runs_dir, str(doc["name"]))
    text = json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        with contextlib.suppress(FileNotFoundError):
            atomic_write_text(path.with_name(path.name + ".bak"), path.read_text("utf-8"))
        atomic_write_text(path, text, fsync=True)
    except OSError as e:
        raise StoreError(f"cannot write the registry file {path}: {e.strerror}.") from None


def model_names(runs_dir: Path) -> list[str]:
    folder = registry_dir(runs_dir)
    if not folder.is_dir():
        return []
    return sorted(
        p.stem
        for p in folder.glob("*.json")
        if _MODEL_RE.match(p.stem) and not p.name.startswith(".")
    )


@contextlib.contextmanager
def locked(runs_dir: Path) -> Iterator[None]:
    """Hold the registry's exclusive lock (blocking: promotions are short)."""
    folder = registry_dir(runs_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / ".lock", os.O_CREAT | os.O_RDWR, 0o666)
    except OSError as e:
        why = (
            "it is read-only" if e.errno in (errno.EACCES, errno.EROFS, errno.EPERM) else e.strerror
        )
        raise StoreError(f"cannot write the model registry in {folder}: {why}.") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock
