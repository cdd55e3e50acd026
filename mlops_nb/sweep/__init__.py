"""Sweeps: one notebook over many parameter sets, in parallel, resumable (``mlops_nb.sweep``).

``mlops_nb.sweep(...)`` is ``mlops_nb.sweep.api.sweep``. Because this package shares the name,
the package module itself is callable, so ``mlops_nb.sweep(...)`` works whether or not the
package was imported first.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from mlops_nb.sweep.api import sweep

        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
