"""What differs between two runs: parameters, scalar scraps (with deltas), notebook code (cell by
cell, unified diff), git commit, package versions and input-data hashes.

Reads the two run folders (records, ``output.ipynb``, ``environment.json``); no pandas.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb.notebook.io import code_cells, source_of
from mlops_nb.notebook.status import source_index
from mlops_nb.store import runs as store

_MISSING = object()


@dataclass(frozen=True)
class Change:
    """One named value that differs. ``a``/``b`` are None both when the value is ``None`` and when
    it is absent on that side; ``a_missing``/``b_missing`` tell the two apart."""

    name: str
    a: Any
    b: Any
    delta: float | None = None
    a_missing: bool = False
    b_missing: bool = False


@dataclass(frozen=True)
class RunDiff:
    a: str
    b: str
    status: Change | None = None
    notebook: Change | None = None
    params: list[Change] = field(default_factory=list)
    scraps: list[Change] = field(default_factory=list)
    code: list[str] = field(default_factory=list)  # unified diff lines
    git: Change | None = None
    packages: list[Change] = field(default_factory=list)
    inputs: list[Change] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not any(
            (
                self.status,
                self.notebook,
                self.params,
                self.scraps,
                self.code,
                self.git,
                self.packages,
                self.inputs,
            )
        )

    def as_dict(self) -> dict[str, Any]:
        def ch(c: Change | None) -> dict[str, Any] | None:
            if c is None:
                return None
            out = {"name": c.name, "a": c.a, "b": c.b, "delta": c.delta}
            out.update({f"{side}_missing": True for side in "ab" if getattr(c, f"{side}_missing")})
            return out

        return {
            "a": self.a,
            "b": self.b,
            "identical": self.identical,
            "status": ch(self.status),
            "notebook": ch(self.notebook),
            "params": [ch(c) for c in self.params],
            "scraps": [ch(c) for c in self.scraps],
            "code": self.code,
            "git": ch(self.git),
            "packages": [ch(c) for c in self.packages],
            "inputs": [ch(c) for c in self.inputs],
        }


def _delta(a: Any, b: Any) -> float | None:
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    if numbers and not isinstance(a, bool) and not isinstance(b, bool):
        d = float(b) - float(a)
        return d if math.isfinite(d) else None
    return None


def _identical(a: Any, b: Any) -> bool:
    """Equal and of the same type; NaN equals NaN, also inside lists and dicts (a value is not a
    difference from itself: ``nan != nan`` is IEEE 754's rule for arithmetic, not for records)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_identical, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_identical(a[k], b[k]) for k in a)
    return bool(a == b)


def compare_maps(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    *,
    deltas: bool = False,
    same: Callable[[Any, Any], bool] = _identical,
) -> list[Change]:
    """Entries that differ between two mappings, in a stable order (a's keys first).

    ``same`` decides equality of two present values (``rerun --check`` passes a tolerance).
    """
    out = []
    for name in [*a, *(k for k in b if k not in a)]:
        va, vb = a.get(name, _MISSING), b.get(name, _MISSING)
        if va is not _MISSING and vb is not _MISSING and same(va, vb):
            continue
        gone_a, gone_b = va is _MISSING, vb is _MISSING
        va = None if gone_a else va
        vb = None if gone_b else vb
        out.append(Change(name, va, vb, _delta(va, vb) if deltas else None, gone_a, gone_b))
    return out


def code_text(nb: Mapping[str, Any]) -> list[str]:
    """The notebook's code cells (injected parameters excluded) as lines with cell headers."""
    lines: list[str] = []
    for i, cell in code_cells(nb):  # numbered like every message: cells of the notebook, from 1
        lines.append(f"# ---- cell {(source_index(nb, i) or 0) + 1} ----")
        lines.extend(source_of(cell).splitlines())
    return lines


def _notebook(folder: Path) -> dict[str, Any] | None:
    try:
        with open(folder / store.OUTPUT, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _packages(folder: Path, record: Mapping[str, Any]) -> dict[str, str]:
    try:
        with open(folder / store.ENVIRONMENT, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict):
            return {str(k): str(v) for k, v in data.items()}
    except (OSError, ValueError):
        pass
    env = record.get("environment") or {}
    return dict(env.get("packages") or {})


def _one(name: str, a: Any, b: Any) -> Change | None:
    return None if a == b else Change(name, a, b)


def diff_runs(folder_a: Path, folder_b: Path) -> RunDiff:
    """Compare two run folders."""
    ra, rb = store.read_record(folder_a), store.read_record(folder_b)
    ida, idb = str(ra.get("id", folder_a.name)), str(rb.get("id", folder_b.name))
    code: list[str] = []
    if (ra.get("notebook") or {}).get("code_sha256") != (rb.get("notebook") or {}).get(
        "code_sha256"
    ):
        nba, nbb = _notebook(folder_a), _notebook(folder_b)
        code = list(
            difflib.unified_diff(
                code_text(nba) if nba else [],
                code_text(nbb) if nbb else [],
                fromfile=f"{ida}/{store.OUTPUT}",
                tofile=f"{idb}/{store.OUTPUT}",
                lineterm="",
            )
        )

    def inputs(r: Mapping[str, Any]) -> dict[str, Any]:
        from mlops_nb.dvc_adapter import describe

        return {
            k: (v or {}).get("sha256")
            if not (v or {}).get("dvc")
            else f"{v.get('sha256')} ({describe(v['dvc'])})"
            for k, v in (r.get("inputs") or {}).items()
        }

    def commit(r: Mapping[str, Any]) -> str | None:
        g = r.get("git") or {}
        return f"{g.get('commit')}{' (dirty)' if g.get('dirty') else ''}" if g else None

    params_a = {k: v for k, v in (ra.get("params") or {}).items() if k != "output_dir"}
    params_b = {k: v for k, v in (rb.get("params") or {}).items() if k != "output_dir"}
    return RunDiff(
        a=ida,
        b=idb,
        status=_one("status", ra.get("status"), rb.get("status")),
        notebook=_one(
            "notebook",
            (ra.get("notebook") or {}).get("path"),
            (rb.get("notebook") or {}).get("path"),
        ),
        params=compare_maps(params_a, params_b),
        scraps=compare_maps(ra.get("scraps") or {}, rb.get("scraps") or {}, deltas=True),
        code=code,
        git=_one("commit", commit(ra), commit(rb)),
        packages=compare_maps(_packages(folder_a, ra), _packages(folder_b, rb)),
        inputs=compare_maps(inputs(ra), inputs(rb)),
    )


def _v(value: Any, missing: bool = False) -> str:
    if missing:
        return "(missing)"
    if value is None:
        return "None"  # Python's spelling, as -p takes it
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value) if isinstance(value, str) else str(value)


def diff_lines(d: RunDiff) -> list[str]:
    """The diff as readable text lines."""
    if d.identical:
        return [f"runs {d.a} and {d.b} do not differ (params, scraps, code, git, packages, inputs)"]
    lines = [f"a: {d.a}", f"b: {d.b}"]
    for c in (d.status, d.notebook, d.git):
        if c is not None:
            lines.append(f"{c.name}: {_v(c.a)} -> {_v(c.b)}")
    for title, changes in (
        ("params", d.params),
        ("scraps", d.scraps),
        ("packages", d.packages),
        ("inputs", d.inputs),
    ):
        if changes:
            lines.append(f"{title}:")
            for c in changes:
                delta = f"  ({c.delta:+.6g})" if c.delta is not None else ""
                lines.append(f"  {c.name}: {_v(c.a, c.a_missing)} -> {_v(c.b, c.b_missing)}{delta}")
    if d.code:
        lines.append("code:")
        lines.extend(d.code)
    return lines
