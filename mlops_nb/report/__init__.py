"""The HTML report across runs: leaderboard, seaborn plots of metrics against parameters, run
durations, failed runs and one anchored section per run, in one self-contained file.

Its API is imported lazily, as the package's (``mlops_nb.__getattr__``): a module of the report
(the painter process, ``mlops_nb.report.painter``) starts without the page's modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["CompareView", "build_report", "compare_view", "report_html"]

if TYPE_CHECKING:
    from mlops_nb.report.build import CompareView, build_report, compare_view, report_html


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("mlops_nb.report.build"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
