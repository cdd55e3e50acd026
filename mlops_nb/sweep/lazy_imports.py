"""More of what a notebook will import, for ``--preload auto``: submodules named by
``from PACKAGE import NAME`` and the libraries this product's helpers import on first use.

``from mlops_nb import ml`` names the module ``mlops_nb``, whose import costs nothing; the
notebook's real cost is ``mlops_nb.ml`` and the scikit-learn, SciPy and seaborn modules its
functions import when first called (``LAZY``). Preloaded into the fork template, a pipeline step
or sweep run finds them in ``sys.modules``. Found without importing anything in this process.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
from collections.abc import Mapping, Sequence
from typing import Any

from mlops_nb.notebook.imports import import_statements

# Modules imported inside the functions of a package (on first call), by package.
LAZY: dict[str, tuple[str, ...]] = {
    "mlops_nb.ml": (
        "sklearn.compose",
        "sklearn.datasets",
        "sklearn.ensemble",
        "sklearn.impute",
        "sklearn.linear_model",
        "sklearn.metrics",
        "sklearn.pipeline",
        "sklearn.preprocessing",
        "sklearn.utils.class_weight",
        "scipy.stats",
        "joblib",
        "matplotlib.pyplot",
        "seaborn",
    ),
}


def expand(modules: Sequence[str], nb: Mapping[str, Any]) -> tuple[str, ...]:
    """``modules`` + the submodules the notebook imports by ``from PACKAGE import NAME`` + the
    modules in ``LAZY`` of any of them, those that are installed, without duplicates."""
    found = [*modules, *submodule_imports(nb)]
    found += [m for name in found for m in LAZY.get(name, ()) if _installed(m)]
    return tuple(dict.fromkeys(found))


def submodule_imports(nb: Mapping[str, Any]) -> tuple[str, ...]:
    """``PACKAGE.NAME`` for each top-level ``from PACKAGE import NAME`` of a code cell where
    PACKAGE is an installed top-level package with a submodule NAME."""
    found: list[str] = []
    for node in import_statements(nb):
        module = node.module if isinstance(node, ast.ImportFrom) and not node.level else None
        if module and "." not in module:
            found += [f"{module}.{a.name}" for a in node.names if a.name != "*"]
    return tuple(m for m in dict.fromkeys(found) if _is_submodule(m))


def _is_submodule(name: str) -> bool:
    package, _, sub = name.partition(".")
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return False
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        return False
    return importlib.machinery.PathFinder.find_spec(sub, list(locations)) is not None


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False
