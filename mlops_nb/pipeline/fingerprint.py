"""What a step's result depends on, hashed part by part so staleness can say *why*.

A step's fingerprint covers: the notebook's code cells (outputs, metadata and markdown do not
count), its parameters (and grid/selection), its upstream steps' fingerprints, the contents of
input files named by parameters, and the local Python modules the notebook imports (modules of
this project, found outside site-packages and the standard library; followed transitively).
"""

from __future__ import annotations

import ast
import hashlib
import json
import secrets
import sys
import sysconfig
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mlops_nb.execution import provenance
from mlops_nb.notebook.io import code_cells, read_notebook, source_of
from mlops_nb.notebook.syntax import python_trees


@dataclass(frozen=True)
class Parts:
    """The parts of a fingerprint, as stored in the pipeline state."""

    cells: list[str]  # sha256 of each code cell, in order
    params: dict[str, Any]
    upstream: dict[str, str]  # step -> fingerprint
    inputs: dict[str, str]  # path -> sha256
    modules: dict[str, str]  # module -> sha256
    extra: dict[str, Any] = field(default_factory=dict)  # grid, select, report options
    dvc: dict[str, str] = field(default_factory=dict)  # input path -> DVC md5 (DVC-tracked data)

    def digest(self) -> str:
        return _sha(json.dumps(self.to_dict(), sort_keys=True, default=str))

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        if not self.dvc:  # absent, so fingerprints of pipelines without DVC data stay as they were
            del d["dvc"]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Parts:
        maps = ("params", "upstream", "inputs", "modules", "extra", "dvc")
        return cls(cells=list(d.get("cells", [])), **{k: dict(d.get(k, {})) for k in maps})


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def cell_hashes(nb: Mapping[str, Any]) -> list[str]:
    return [_sha(source_of(c)) for _, c in code_cells(nb)]


def imported_modules(sources: Iterable[str]) -> set[str]:
    """Absolute module names imported by the given code (IPython syntax read as IPython does,
    ``notebook.syntax``; code that does not parse is skipped)."""
    return {name for src in sources for tree in python_trees(src) for name in _imports(tree.body)}


def module_imports(text: str) -> set[str]:
    """``imported_modules`` of a ``.py`` file: plain Python, parsed once (a module holds no
    IPython syntax; one that does not parse goes the notebook way)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return imported_modules([text])
    return set(_imports(tree.body))


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def _imports(nodes: Iterable[ast.AST]) -> Iterator[str]:
    """The absolute imports of these statements and the statements nested in them. Only
    statements are visited (an import is one; expressions hold none): a fraction of the nodes
    ``ast.walk`` would visit, which matters for a package's worth of modules."""
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.level == 0:
                yield node.module
                yield from (f"{node.module}.{a.name}" for a in node.names)
        else:
            for block in _BLOCKS:
                yield from _imports(getattr(node, block, ()))


def _system_dirs() -> list[Path]:
    dirs = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    return [Path(d).resolve() for d in dirs if d]


def _is_local(path: Path, system: list[Path]) -> bool:
    return not any(path.is_relative_to(d) for d in system) and "site-packages" not in path.parts


def search_path(extra: Iterable[Path]) -> list[Path]:
    system = _system_dirs()
    out: list[Path] = []
    for p in [*extra, *(Path(s) for s in sys.path if s)]:
        rp = p.resolve()
        if rp.is_dir() and _is_local(rp, system) and rp not in out:
            out.append(rp)
    return out


def _resolve(module: str, path: list[Path]) -> list[Path]:
    """Files of a module found on the local search path: the module and its packages' inits."""
    parts = module.split(".")
    for base in path:
        files: list[Path] = []
        here = base
        for i, part in enumerate(parts):
            pkg, mod = here / part / "__init__.py", here / f"{part}.py"
            if pkg.is_file():
                files.append(pkg)
                here = here / part
            elif mod.is_file() and i == len(parts) - 1:
                files.append(mod)
                break
            else:
                break
        if files:
            return files
    return []


def local_modules(sources: Iterable[str], *, roots: Iterable[Path]) -> dict[str, str]:
    """``{relative file: sha256}`` of local modules imported, followed transitively."""
    path = search_path(roots)
    seen: dict[Path, str] = {}
    todo = sorted(imported_modules(sources))
    done: set[str] = set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        for f in _resolve(name, path):
            if f in seen:
                continue
            seen[f], imports = _scan(f)
            todo.extend(sorted(imports - done))
    return {_label(f, path): h for f, h in sorted(seen.items())}


_SCANNED: dict[tuple[str, int, int], tuple[str, frozenset[str]]] = {}


def _scan(f: Path) -> tuple[str, frozenset[str]]:
    """(sha256, imported modules) of a module file; remembered while the file's size and
    modification time stay the same (every step of a pipeline follows the same package)."""
    try:
        st = f.stat()
    except OSError:
        st = None
    key = (str(f), st.st_mtime_ns, st.st_size) if st is not None else None
    if key is not None and key in _SCANNED:
        return _SCANNED[key]
    data = f.read_bytes()
    found = (_sha(data), frozenset(module_imports(data.decode("utf-8", "replace"))))
    if key is not None:
        _SCANNED[key] = found
    return found


def _label(f: Path, path: list[Path]) -> str:
    for base in path:
        if f.is_relative_to(base):
            return f.relative_to(base).as_posix()
    return str(f)  # pragma: no cover


def input_files(
    params: Mapping[str, Any], base_dirs: list[Path]
) -> tuple[dict[str, str], dict[str, str]]:
    """``({path: sha256}, {path: DVC md5})`` of the input files named by parameters."""
    hashed = provenance.input_hashes(params, base_dirs=base_dirs, skip=frozenset({"output_dir"}))
    # an input that could not be hashed (too large, unreadable) never matches: the step re-runs
    dvc = {k: str(v["dvc"]["md5"]) for k, v in hashed.items() if "dvc" in v}
    return {
        k: v.get("sha256") or f"not hashed {secrets.token_hex(8)}" for k, v in hashed.items()
    }, dvc


def notebook_parts(
    notebook: Path,
    params: Mapping[str, Any],
    upstream: Mapping[str, str],
    *,
    roots: list[Path],
    extra: Mapping[str, Any] | None = None,
) -> Parts:
    nb = read_notebook(notebook)
    sources = [source_of(c) for _, c in code_cells(nb)]
    inputs, dvc = input_files(params, [notebook.parent.resolve(), *roots])
    return Parts(
        cells=cell_hashes(nb),
        params=dict(params),
        upstream=dict(upstream),
        inputs=inputs,
        modules=local_modules(sources, roots=[notebook.parent.resolve(), *roots]),
        extra=dict(extra or {}),
        dvc=dvc,
    )


def reasons(old: Parts | None, new: Parts) -> list[str]:
    """Why ``new`` differs from ``old``, in words."""
    if old is None:
        return ["never run"]
    why: list[str] = []
    for i, (a, b) in enumerate(zip(old.cells, new.cells, strict=False)):
        if a != b:
            why.append(f"code changed in code cell {i + 1}")
            break
    if len(old.cells) != len(new.cells):
        why.append(f"code cells {len(old.cells)} -> {len(new.cells)}")
    for k in sorted(set(old.params) | set(new.params)):
        if old.params.get(k, "<unset>") != new.params.get(k, "<unset>"):
            why.append(
                f"parameter {k} changed ({old.params.get(k, '<unset>')!r} -> "
                f"{new.params.get(k, '<unset>')!r})"
            )
    if old.extra != new.extra:
        why.append("grid/selection/report settings changed")
    for k in sorted(set(old.upstream) | set(new.upstream)):
        if old.upstream.get(k) != new.upstream.get(k):
            why.append(f"upstream {k} changed")
    for k in sorted(set(old.inputs) | set(new.inputs)):
        if old.inputs.get(k) != new.inputs.get(k):
            why.append(f"input file {k} changed{_dvc_note(old.dvc.get(k), new.dvc.get(k))}")
    for k in sorted(set(old.modules) | set(new.modules)):
        if old.modules.get(k) != new.modules.get(k):
            why.append(f"module {k} changed")
    return why


def _dvc_note(old: str | None, new: str | None) -> str:
    if new is None and old is None:
        return ""
    if new is None:
        return " (no longer tracked by DVC)"
    if old == new:
        return f" (DVC md5 still {new[:8]}: run `dvc add` or `dvc commit` to record the new data)"
    if old is None:
        return f" (now tracked by DVC, md5 {new[:8]})"
    return f" (DVC md5 {old[:8]} -> {new[:8]})"
