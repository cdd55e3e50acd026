"""Provenance of a run: the environment, hashes of input files and of the files a run wrote."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import re
import secrets
import stat
import sys
import time
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
MAX_SCAN_ENTRIES = 50_000  # files listed in one input folder before giving up ("too large")
MAX_SCAN_S = 5.0  # seconds spent listing one input folder before giving up


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


class _TooLarge(Exception):
    pass


def _entry_part(p: Path, by_content: bool, problems: dict[str, str], rel: str) -> str:
    """What a folder entry contributes to the tree hash; what could not be read is noted."""
    try:
        if p.is_symlink() and not p.exists():
            target = os.readlink(p)
            problems[rel] = f"broken link -> {target}"
            return f"link:{target}"  # a link is hashed as a link: retargeting it is a change
        if p.is_symlink() and p.is_dir():
            return f"link:{os.readlink(p)}"
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO or a device: reading it could block forever
            problems[rel] = "not a regular file (not read)"
            return f"special:{stat.S_IFMT(st.st_mode)}"
        return file_digest(p)["sha256"] if by_content else f"{st.st_size}:{st.st_mtime_ns}"
    except OSError as e:
        problems[rel] = f"unreadable: {e.strerror or e}"
        return f"unreadable:{e.errno}"


def dir_digest(path: Path, *, exclude: frozenset[Path] = frozenset()) -> dict[str, Any]:
    """A tree hash of a folder's files (names and contents; hidden files and ``exclude`` skipped).

    Nothing is dropped: a broken symbolic link is hashed as a link (its target text), an
    unreadable file or folder by its name and the error; both are listed under ``unreadable``.
    Beyond ``_MAX_DIR_FILES`` files it hashes names, sizes and modification times instead of
    contents (``"by": "size+mtime"``). The scan is bounded: past ``MAX_SCAN_ENTRIES`` entries or
    ``MAX_SCAN_S`` seconds it stops and the folder is recorded ``"not_hashed": "too large ..."``
    with ``"sha256": None`` (a run with such an input is never reused as identical work).
    """
    t0 = time.monotonic()
    problems: dict[str, str] = {}
    entries: list[tuple[str, Path]] = []

    def on_error(e: OSError) -> None:
        where = Path(e.filename or path)
        rel = where.relative_to(path).as_posix() if where.is_relative_to(path) else str(where)
        problems[rel + "/"] = f"unreadable: {e.strerror or e}"

    try:
        for root, dirs, files in os.walk(path, onerror=on_error):
            dirs[:] = sorted(
                d
                for d in dirs
                if not d.startswith(".") and (Path(root) / d).resolve() not in exclude
            )
            # os.walk does not enter linked folders (loops); they count as links
            files = [*files, *(d for d in dirs if os.path.islink(os.path.join(root, d)))]
            entries += [
                ((Path(root) / f).relative_to(path).as_posix(), Path(root) / f)
                for f in sorted(files)
            ]
            if len(entries) > MAX_SCAN_ENTRIES or time.monotonic() - t0 > MAX_SCAN_S:
                raise _TooLarge
    except _TooLarge:
        return {
            "sha256": None,
            "size": None,
            "files": len(entries),
            "not_hashed": f"too large: the scan stopped after {len(entries)} files and "
            f"{time.monotonic() - t0:.1f} s (limits: {MAX_SCAN_ENTRIES} files, {MAX_SCAN_S:g} s)",
            "seconds": round(time.monotonic() - t0, 3),
        }
    by_content = len(entries) <= _MAX_DIR_FILES
    h = hashlib.sha256()
    total = 0
    for rel, p in entries:
        part = _entry_part(p, by_content, problems, rel)
        if rel not in problems:
            with contextlib.suppress(OSError):
                total += p.stat().st_size
        h.update(f"{rel}\0{part}\n".encode())
    for rel in sorted(k for k in problems if k.endswith("/")):
        h.update(f"{rel}\0{problems[rel]}\n".encode())
    by = "content" if by_content else "size+mtime"
    out: dict[str, Any] = {"sha256": h.hexdigest(), "size": total, "files": len(entries), "by": by}
    if problems:
        out["unreadable"] = dict(sorted(problems.items()))
    out["seconds"] = round(time.monotonic() - t0, 3)
    return out


def _candidate_paths(value: Any, _depth: int = 0) -> list[str]:
    """Strings that may name files: the value, or the strings inside a list or dict parameter."""
    if isinstance(value, str):
        return [value]
    if _depth > 20:
        return []
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _candidate_paths(v, _depth + 1)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _candidate_paths(v, _depth + 1)]
    return []


def _input_digest(p: Path, exclude: frozenset[Path]) -> dict[str, Any] | None:
    """The digest of one named path, or None when it names nothing (not a path after all)."""
    try:
        if p.is_symlink() and not p.exists():
            target = os.readlink(p)
            return {
                "sha256": hashlib.sha256(f"link:{target}".encode()).hexdigest(),
                "size": None,
                "link": target,
                "unreadable": {p.name: f"broken link -> {target}"},
            }
        if p.is_file():
            return file_digest(p)
        if p.exists() and not p.is_dir():
            return {"sha256": None, "size": None, "not_hashed": "not a regular file or folder"}
        if p.is_dir():
            return dir_digest(p, exclude=exclude)
    except OSError as e:
        return {"sha256": None, "size": None, "not_hashed": f"unreadable: {e.strerror or e}"}
    return None


def input_hashes(
    params: Mapping[str, Any],
    *,
    base_dirs: list[Path],
    skip: frozenset[str] = frozenset(),
    exclude: frozenset[Path] = frozenset(),
) -> dict[str, dict[str, Any]]:
    """Hashes of files (and folders) named by parameters, keyed by the value as given.

    String parameters and the strings inside list and dict parameters count. Never silently
    drops an input: see ``dir_digest`` for broken links, unreadable entries and size limits; each
    such problem is also said on stderr. ``exclude``: folders never hashed (the runs store).
    """
    out: dict[str, dict[str, Any]] = {}
    for name, value in params.items():
        if name in skip:
            continue
        for text in _candidate_paths(value):
            if not text or len(text) > 4096 or "\n" in text or text.startswith("builtin:"):
                continue
            if "\0" in text or text in out:
                continue
            for base in base_dirs:
                p = Path(text) if os.path.isabs(text) else base / text
                digest = _input_digest(p, exclude)
                if digest is not None:
                    out[text] = {"param": name, **digest}
                    _warn(text, name, digest)
                    break
    from mlops_nb import dvc_adapter

    return dvc_adapter.annotate(out, base_dirs)


def _warn(text: str, name: str, digest: Mapping[str, Any]) -> None:
    from mlops_nb import output

    if digest.get("not_hashed"):
        output.notice(f"input {text!r} (parameter {name}) not hashed: {digest['not_hashed']}")
    elif digest.get("unreadable"):
        items = list(digest["unreadable"].items())
        shown = "; ".join(f"{k}: {v}" for k, v in items[:3]) + ("; ..." if len(items) > 3 else "")
        output.notice(f"input {text!r} (parameter {name}): recorded but not readable: {shown}")


def artifacts(folder: Path) -> dict[str, dict[str, Any]]:
    """Files a run wrote into its folder (everything but the store's own files)."""
    out: dict[str, dict[str, Any]] = {}
    for root, dirs, files in os.walk(folder):
        skip = {".ipynb_checkpoints", "output-streams"} if root == str(folder) else set()
        dirs[:] = sorted(d for d in dirs if d not in skip)  # output-streams: execution.client
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
    hashes = {k: v.get("sha256") for k, v in sorted(inputs.items())}
    if any(h is None for h in hashes.values()):
        # An input that could not be hashed: nobody can tell identical work, so no key matches.
        hashes["(not hashed)"] = secrets.token_hex(16)
    payload = {"code": code_sha256, "params": params, "inputs": hashes}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
