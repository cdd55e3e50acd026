"""Where a run's results go for other systems: ``--output-dir``, ``--metrics-file``, ``--upstream``.

DVC and Kubeflow need stable paths: a stage's outs and metrics must not depend on a run id, and a
downstream step must be told where its upstream step wrote. These flags map onto the notebook's
``output_dir`` and ``upstream`` parameters (the templates' conventions) and onto one JSON file of
scalar scraps (what ``dvc metrics show`` and a Kubeflow metrics output read).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_nb.errors import UsageError

OUTPUT_DIR_PARAM = "output_dir"
UPSTREAM_PARAM = "upstream"
# A file counts as written by the run if modified after its start, minus this slack for
# filesystems whose timestamps are coarser than the clock (FAT: 2 s).
_MTIME_SLACK_NS = 2_000_000_000


def with_flags(
    notebook: str | os.PathLike[str],
    params: Mapping[str, Any] | None,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    upstream: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``params`` with ``output_dir`` / ``upstream`` set from the flags.

    Raises ``UsageError`` when the notebook does not declare the parameter a flag fills, when the
    same value is also given as a parameter, or when an upstream folder does not exist.
    """
    merged = dict(params or {})
    if output_dir is None and not upstream:
        return merged
    from mlops_nb.notebook.io import read_notebook
    from mlops_nb.notebook.params import parse_notebook_params

    declared = set(parse_notebook_params(read_notebook(notebook), source=str(notebook)).names)
    if output_dir is not None:
        _check_flag(notebook, declared, merged, OUTPUT_DIR_PARAM, "--output-dir", 'str = "."')
        out = Path(output_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(
                f"--output-dir {output_dir}: cannot create it: {e.strerror}."
            ) from None
        merged[OUTPUT_DIR_PARAM] = str(out.resolve())
    if upstream:
        _check_flag(notebook, declared, merged, UPSTREAM_PARAM, "--upstream", "dict | None = None")
        for name, path in upstream.items():
            if not Path(path).is_dir():
                raise UsageError(
                    f"--upstream {name}={path}: no such folder (give the upstream step's "
                    "output folder or run folder)."
                )
        merged[UPSTREAM_PARAM] = {name: str(Path(p).resolve()) for name, p in upstream.items()}
    return merged


def _check_flag(
    notebook: str | os.PathLike[str],
    declared: set[str],
    params: Mapping[str, Any],
    name: str,
    flag: str,
    declaration: str,
) -> None:
    if name not in declared:
        raise UsageError(
            f"{flag}: {notebook} declares no '{name}' parameter to receive it "
            f"(add `{name}: {declaration}` to its parameters cell)."
        )
    if name in params:
        raise UsageError(f"{flag} and a '{name}' parameter were both given; give only {flag}.")


def parse_upstream(items: list[str] | None) -> dict[str, str]:
    """``["train=out/train", ...]`` → ``{"train": "out/train"}``; a bad item raises ``UsageError``."""
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path:
            raise UsageError(
                f"--upstream {item!r}: expected NAME=PATH, e.g. --upstream train=out/train."
            )
        if name in out:
            raise UsageError(f"--upstream {name}: given twice.")
        out[name.strip()] = path
    return out


def written_files(folder: Path, *, since_ns: int, exclude: frozenset[Path]) -> dict[str, Path]:
    """Files under ``folder`` modified since ``since_ns`` (hidden and ``exclude`` folders skipped),
    keyed by their path relative to ``folder``."""
    out: dict[str, Path] = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and (Path(root) / d).resolve() not in exclude
        )
        for name in sorted(files):
            p = Path(root) / name
            try:
                if p.stat().st_mtime_ns >= since_ns - _MTIME_SLACK_NS and not name.endswith(".tmp"):
                    out[p.relative_to(folder).as_posix()] = p
            except OSError:
                continue
    return out


def output_artifacts(record: Mapping[str, Any], runs_dir: Path) -> dict[str, Any]:
    """Hashes of the files a run wrote into its ``output_dir`` outside the run folder.

    Shape: ``{path relative to output_dir: {"sha256", "size"}}``; empty when the output folder is
    the run folder (those files are already artifacts).
    """
    import datetime as dt

    from mlops_nb.execution.provenance import file_digest

    folder = record.get(OUTPUT_DIR_PARAM)
    if not folder or not Path(folder).is_dir():
        return {}
    since_ns = int(dt.datetime.fromisoformat(str(record["started_at"])).timestamp() * 1e9)
    files = written_files(Path(folder), since_ns=since_ns, exclude=frozenset({runs_dir.resolve()}))
    out: dict[str, Any] = {}
    for rel, p in files.items():
        try:
            out[rel] = file_digest(p)
        except OSError:
            continue
    return out


def explicit_output_dir(given: Mapping[str, Any], cwd: Path) -> str | None:
    """The absolute output folder when the caller chose one (else the run folder is used)."""
    value = given.get(OUTPUT_DIR_PARAM)
    if not isinstance(value, str) or not value:
        return None
    p = Path(value)
    return str((p if p.is_absolute() else cwd / p).resolve())


def check_metrics_file(path: str | os.PathLike[str] | None) -> None:
    """Fail before the run (``UsageError``) when the metrics file could not be written after it."""
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"--metrics-file {path}: is a folder; give a file name such as m.json.")
    parent = next((d for d in (p.parent, *p.parent.parents) if d.exists()), Path("."))
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(
            f"--metrics-file {path}: cannot write there ({parent} is not a writable folder)."
        )


def write_metrics(path: str | os.PathLike[str], scraps: Mapping[str, Any]) -> None:
    """Write the run's scalar scraps as one strict JSON object (NaN/Infinity become null).

    DVC (``metrics:`` of a stage, ``dvc metrics show``) and Kubeflow metrics read such a file.
    """
    from mlops_nb.notebook.io import write_user_file

    clean = {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in scraps.items()
    }
    p = Path(path)
    try:
        if str(path) != "-":
            p.parent.mkdir(parents=True, exist_ok=True)
        # a FIFO or /dev/stdout is written in place, '-' is stdout (as every -o)
        write_user_file(p, json.dumps(clean, indent=1, sort_keys=True, allow_nan=False) + "\n")
    except OSError as e:
        raise UsageError(f"--metrics-file {path}: cannot write it: {e.strerror}.") from None
