"""mlops-nb: Jupyter notebooks as reproducible, production-grade ML work.

The public API is imported lazily so that ``import mlops_nb`` (and the CLI's ``--help``) stays fast:
``run``, ``load``, ``sweep``, ``collect``, ``export``, ``Run``, ``Sweep``, ``RunFilter``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "run": "mlops_nb.execution.api",
    "load": "mlops_nb.execution.api",
    "Run": "mlops_nb.execution.api",
    "sweep": "mlops_nb.sweep.api",
    "Sweep": "mlops_nb.sweep.api",
    "collect": "mlops_nb.results.collect",
    "RunFilter": "mlops_nb.results.filter",
    "export": "mlops_nb.tracking.api",
}

__all__ = [
    "Run",
    "RunFilter",
    "Sweep",
    "__version__",
    "collect",
    "export",
    "load",
    "load_ipython_extension",
    "run",
    "sweep",
]

if TYPE_CHECKING:
    from mlops_nb.execution.api import Run, load, run
    from mlops_nb.results.collect import collect
    from mlops_nb.results.filter import RunFilter
    from mlops_nb.sweep.api import Sweep, sweep
    from mlops_nb.tracking.api import export


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlops_nb' has no attribute {name!r}")
    _require_run_extra(f"mlops_nb.{name}")
    return getattr(importlib.import_module(module), name)


def _require_run_extra(feature: str) -> None:
    """``MissingExtraError`` (with its pip command) unless the ``[run]`` extra is installed.

    The public API runs notebooks; ``pip install mlops-nb`` alone is the light hygiene core.
    """
    import importlib.util

    from mlops_nb.errors import EXTRA_OF_MODULE, missing_extra

    for top, extra in EXTRA_OF_MODULE.items():
        if extra == "run" and importlib.util.find_spec(top) is None:
            raise missing_extra(top, "run", feature)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext mlops_nb``: warn when cells run out of order (see ``mlops_nb.guard``)."""
    from mlops_nb.guard import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext mlops_nb``."""
    from mlops_nb.guard import unload_ipython_extension as _unload

    _unload(ipython)
