"""Provenance of a run: the environment, hashes of input files and of the files a run wrote."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_nb.store.runs import STORE_FILES

# Packages whose versions go into run.json itself; the full list goes beside it.
KEY_PACKAGES = (
    "mlops-nb",
    "papermill",
    "nbclient",
    "ipykernel",
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "seaborn",
    "matplotlib",
    "torch",
)
_CHUNK = 1 << 20
_MAX_DIR_FILES = 2000


@functools.lru_cache(maxsize=1)
def installed_packages() -> dict[str, str]:
    """``{distribution name: version}`` of this Python environment (cached per process); names
    normalized as pip does (``Jupyter_Client`` → ``jupyter-client``), the first one on
    ``sys.path`` wins, as for imports.

    Read from the ``name-version.dist-info`` folder names (what installers write), ~20 times
    faster than parsing every METADATA file; a folder without a version in its name (an old
    ``setup.py develop`` install) is read the slow way.
    """
    from importlib import metadata

    pkgs: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            stem, dot, kind = folder.rpartition(".")
            if not dot or kind not in ("dist-info", "egg-info"):
                continue
            name, _, version = stem.partition("-")
            if kind == "egg-info":
                version = re.sub(r"-py\d.*$", "", version)
            if not version:
                try:
                    meta = metadata.Distribution.at(os.path.join(entry or ".", folder))
                    name, version = meta.metadata["Name"] or "", meta.version or ""
                except Exception:  # unreadable metadata: not a package we can name
                    continue
            key = re.sub(r"[-_.]+", "-", name).lower()
            if key and version:
                pkgs.setdefault(key, version)
    return dict(sorted(pkgs.items()))


# Installer tooling: present in every virtualenv at whatever version it was created with, and not
# part of what a run computes with, so it does not count in the environment's hash
# (``mlops-nb env export`` leaves it to the installer too).
INSTALLER_TOOLING = frozenset({"pip", "setuptools", "wheel", "distribute", "uv"})


@functools.lru_cache(maxsize=1)
def unindexed_packages() -> dict[str, dict[str, Any]]:
    """Packages installed from a path or URL rather than an index (PEP 610 ``direct_url.json``):
    ``{name: {"url", "editable", "vcs"?, "commit"?}}``. No index serves their recorded version
    (an editable install of the project itself, above all). Spec:
    https://packaging.python.org/en/latest/specifications/direct-url-data-structure/
    """
    out: dict[str, dict[str, Any]] = {}
    for entry in sys.path:
        try:
            names = [f for f in os.listdir(entry or ".") if f.endswith(".dist-info")]
        except OSError:
            continue
        for folder in names:
            try:
                with open(os.path.join(entry or ".", folder, "direct_url.json")) as f:
                    data = json.load(f)
            except (OSError, ValueError):
                continue
            key = re.sub(r"[-_.]+", "-", folder[: -len(".dist-info")].partition("-")[0]).lower()
            vcs = data.get("vcs_info") or {}
            info = {
                "url": data.get("url"),
                "editable": bool((data.get("dir_info") or {}).get("editable")),
            }
            if vcs:
                info.update(vcs=vcs.get("vcs"), commit=vcs.get("commit_id"))
            out.setdefault(key, info)
    return out


def packages_digest(pkgs: Mapping[str, str]) -> str:
    """sha256 of the package set without installer tooling (``INSTALLER_TOOLING``)."""
    kept = {k: v for k, v in pkgs.items() if k not in INSTALLER_TOOLING}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()


def environment() -> tuple[dict[str, Any], dict[str, str]]:
    """The record's ``environment`` summary and the full package list to store beside it."""
    pkgs = installed_packages()
    digest = packages_digest(pkgs)
    summary = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": {k: pkgs[k] for k in KEY_PACKAGES if k in pkgs},
        "packages_sha256": digest,
        "packages_file": "environment.json",
        "unindexed": unindexed_packages(),
    }
    return summary, pkgs


@functools.lru_cache(maxsize=4096)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def file_digest(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"sha256": _file_sha256(str(path), st.st_size, st.st_mtime_ns), "size": st.st_size}


def dir_digest(path: Path, *, exclude: frozenset[Path] = frozenset()) -> dict[str, Any]:
    """A tree hash of a folder's files (names and contents; hidden files and ``exclude`` skipped).

    Beyond ``_MAX_DIR_FILES`` files it hashes names, sizes and modification times instead of
    contents (``"by": "size+mtime"``): still a change detector, at the cost of a ``stat`` per file.
    """
    entries: list[tuple[str, Path]] = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and (Path(root) / d).resolve() not in exclude
        )
        entries += [
            ((Path(root) / f).relative_to(path).as_posix(), Path(root) / f) for f in sorted(files)
        ]
    by_content = len(entries) <= _MAX_DIR_FILES
    h = hashlib.sha256()
    total = 0
    for rel, p in entries:
        st = p.stat()
        total += st.st_size
        part = file_digest(p)["sha256"] if by_content else f"{st.st_size}:{st.st_mtime_ns}"
        h.update(f"{rel}\0{part}\n".encode())
    by = "content" if by_content else "size+mtime"
    return {"sha256": h.hexdigest(), "size": total, "files": len(entries), "by": by}


def _candidate_paths(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def input_hashes(
    params: Mapping[str, Any],
    *,
    base_dirs: list[Path],
    skip: frozenset[str] = frozenset(),
    exclude: frozenset[Path] = frozenset(),
) -> dict[str, dict[str, Any]]:
    """Hashes of files (and folders) named by string parameters, keyed by the value as given.

    ``exclude``: folders never hashed (the runs store: it changes with every run).
    """
    out: dict[str, dict[str, Any]] = {}
    for name, value in params.items():
        if name in skip:
            continue
        for text in _candidate_paths(value):
            if not text or len(text) > 4096 or "\n" in text or text.startswith("builtin:"):
                continue
            for base in base_dirs:
                p = Path(text) if os.path.isabs(text) else base / text
                try:
                    if p.is_file():
                        out[text] = {"param": name, **file_digest(p)}
                        break
                    if p.is_dir():
                        out[text] = {"param": name, **dir_digest(p, exclude=exclude)}
                        break
                except OSError:
                    break
    from mlops_nb import dvc_adapter

    return dvc_adapter.annotate(out, base_dirs)


def artifacts(folder: Path) -> dict[str, dict[str, Any]]:
    """Files a run wrote into its folder (everything but the store's own files)."""
    out: dict[str, dict[str, Any]] = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
        for name in sorted(files):
            p = Path(root) / name
            rel = p.relative_to(folder).as_posix()
            if rel in STORE_FILES or (name.startswith(".") and name.endswith(".tmp")):
                continue
            try:
                out[rel] = file_digest(p)
            except OSError:
                continue
    return out


def run_key(code_sha256: str, params: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """Identical work has an identical key: code + parameters + input contents."""
    payload = {
        "code": code_sha256,
        "params": params,
        "inputs": {k: v["sha256"] for k, v in sorted(inputs.items())},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
