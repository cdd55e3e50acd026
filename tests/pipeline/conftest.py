from __future__ import annotations

from tests.sweep.conftest import no_kernels_left  # noqa: F401  (kernels must not outlive a test)
