"""How a message names an option: its Python keyword (``where=' '``) or, while a command of the
CLI runs, its flag (``--where ' '``), so that the message names what the user wrote.

``main`` runs each command inside ``command_line()``. A context variable, not a global: a
thread that a command starts reads the default (the Python keyword), and a test that calls
``main`` and then the Python API in one process gets each its own words.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_CLI: ContextVar[bool] = ContextVar("mlops_nb_command_line", default=False)


def named(name: str) -> str:
    """``--name`` inside the CLI (``_`` as ``-``), ``name=`` from Python."""
    return f"--{name.replace('_', '-')}" if _CLI.get() else f"{name}="


def option(name: str, value: object) -> str:
    """``--name 'value'`` inside the CLI, ``name='value'`` from Python (``name`` as in Python)."""
    return f"{named(name)}{' ' if _CLI.get() else ''}{value!r}"


@contextlib.contextmanager
def command_line() -> Iterator[None]:
    """Name options by their flags until the block ends (``main``)."""
    token = _CLI.set(True)
    try:
        yield
    finally:
        _CLI.reset(token)
