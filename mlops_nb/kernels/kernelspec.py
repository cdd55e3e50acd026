"""Which Jupyter kernel a run uses: ``-k/--kernel NAME`` or the notebook's ``metadata.kernelspec``.

Checked before anything starts, so a notebook without a kernelspec (or naming a kernel that is not
installed) is a usage error (exit 2), not a failed run. The lookup is jupyter_client's
``KernelSpecManager`` (what papermill and nbclient start kernels from).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from mlops_nb.errors import UsageError


def notebook_kernel_name(nb: Mapping[str, Any]) -> str | None:
    """``metadata.kernelspec.name`` of a notebook dict, or None (papermill reads the same field)."""
    md = nb.get("metadata")
    ks = md.get("kernelspec") if isinstance(md, dict) else None
    name = ks.get("name") if isinstance(ks, dict) else None
    return name if isinstance(name, str) and name.strip() else None


@functools.lru_cache(maxsize=8)
def _installed() -> frozenset[str]:
    from jupyter_client.kernelspec import KernelSpecManager

    return frozenset(KernelSpecManager().find_kernel_specs())


def resolve_kernel_name(nb: Mapping[str, Any], kernel_name: str | None, *, source: str) -> str:
    """The kernel to start; raises ``UsageError`` when there is none or it is not installed."""
    name = kernel_name or notebook_kernel_name(nb)
    if not name:
        raise UsageError(
            f"{source}: the notebook names no kernel (metadata.kernelspec is missing). "
            "Fix: pass -k/--kernel NAME (e.g. -k python3), or open and save the notebook in "
            "Jupyter, which records its kernel."
        )
    installed = _installed()
    if name not in installed:
        _installed.cache_clear()  # installed since? look again before refusing
        installed = _installed()
    if name not in installed:
        how = "-k/--kernel" if kernel_name else "its metadata.kernelspec"
        raise UsageError(
            f"{source}: no Jupyter kernel named {name!r} (asked by {how}). Installed kernels: "
            f"{', '.join(sorted(installed)) or '(none)'}. Fix: pass -k/--kernel with one of them, "
            "or install the kernel (`jupyter kernelspec list` shows them)."
        )
    return name
