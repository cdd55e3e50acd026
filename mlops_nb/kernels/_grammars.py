"""Parsers that a module builds at import time, built on first use instead: in the fork server's
template only (``_forkserver.py`` loads this file as it loads ``_kernel.py``; it imports nothing
from mlops_nb).

Where JupyterLab is installed, jupyter-events' ``jsonschema[format-nongpl]`` brings
``rfc3987_syntax``, and jsonschema imports it (for its ``iri`` format checkers) whenever it is
imported, so a kernel whose notebook imports scrapbook (scrapbook -> papermill -> nbformat ->
jsonschema) imports it too. ``rfc3987_syntax.syntax_helpers`` builds 39 Lark Earley parsers of one
grammar when it is imported: ~1 s of CPU, more than the rest of the template (upstream:
python-jsonschema/jsonschema#1428, jupyter-server/jupyter_server#1559). Every sweep paid it
before its first run could start.

While the template imports a module named in ``DEFERRED`` (see ``forking.DEFERRED_GRAMMARS``),
``lark.Lark`` is a subclass whose instances take their arguments and build themselves the first
time an attribute they do not have yet is read (``parse``, ``lex``, ``rules``, ``repr()``...). So the
module and its functions are the same; a kernel builds only the parsers its user's code uses,
itself, and gets the same trees and the same errors as with ``lark.Lark``. The parsers are
``lark.Lark`` instances (``isinstance``), and once built plain ones (``type(p) is lark.Lark``).
After the imports ``lark.Lark`` and ``sys.meta_path`` are as they were: kernels see no hook.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

_PENDING = "_mlops_nb_pending"  # the instance's constructor arguments, until it is built
_LOCK = threading.RLock()  # one build per instance, even when two threads use it at once


def deferred(cls: type) -> type:
    """A subclass of ``cls`` whose ``__init__`` only keeps its arguments; ``cls.__init__`` runs
    when an attribute the instance lacks is first read (then the read is answered), and the
    instance becomes a plain ``cls`` (``type(p) is cls`` from then on)."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        vars(self)[_PENDING] = (args, kwargs)

    def __getattr__(self: Any, name: str) -> Any:
        with _LOCK:
            pending = vars(self).pop(_PENDING, None)
            if pending is not None:
                cls.__init__(self, *pending[0], **pending[1])  # type: ignore[misc]
                self.__class__ = cls
        if type(self) is not cls:  # its build failed earlier: nothing more to give
            raise AttributeError(f"{cls.__name__!r} object has no attribute {name!r}")
        return getattr(self, name)  # built now, by this thread or another one

    namespace = {"__init__": __init__, "__getattr__": __getattr__, "__doc__": cls.__doc__}
    namespace.update(__module__=cls.__module__, __qualname__=cls.__qualname__)
    return type(cls.__name__, (cls,), namespace)


class _Loader(importlib.abc.Loader):
    """The module's own loader, run while ``lark.Lark`` builds on first use."""

    def __init__(self, real: importlib.abc.Loader) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        try:
            import lark
        except ImportError:  # not a Lark user here: nothing to defer
            self.real.exec_module(module)
            return
        real = lark.Lark
        lark.Lark = deferred(real)  # type: ignore[misc,assignment]
        try:
            self.real.exec_module(module)
        finally:
            lark.Lark = real  # type: ignore[misc]


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


@contextlib.contextmanager
def deferring(names: Sequence[str]) -> Iterator[None]:
    """While inside: the modules ``names`` (full dotted names), when imported, build their Lark
    parsers on first use. Afterwards ``sys.meta_path`` is as it was."""
    finder = _Finder(names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
