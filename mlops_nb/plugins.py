"""Plugin look-up shared by the registries (executors, exporters): a literal dict of built-in
``"module:attribute"`` targets, then the installed distributions' entry points of one group
(``importlib.metadata``), loaded only when asked for."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any

from mlops_nb.errors import UsageError


def names(group: str, builtins: Mapping[str, str]) -> list[str]:
    """Every name: the built-in ones and those of installed plugins, sorted."""
    found = set(builtins)
    found.update(ep.name for ep in metadata.entry_points(group=group))
    return sorted(found)


def load(group: str, builtins: Mapping[str, str], name: str, what: str) -> Callable[..., Any]:
    """The factory called ``name``; an unknown name is a ``UsageError`` listing the valid ones
    (``what`` says what they are, e.g. "executor")."""
    target = builtins.get(name)
    if target is not None:
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
    for ep in metadata.entry_points(group=group, name=name):
        return ep.load()  # type: ignore[no-any-return]
    valid = ", ".join(names(group, builtins))
    raise UsageError(f"unknown {what} {name!r}. Valid {what}s: {valid}.")
