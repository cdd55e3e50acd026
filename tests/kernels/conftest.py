from __future__ import annotations

from tests.sweep.conftest import no_kernels_left

__all__ = ["no_kernels_left"]
