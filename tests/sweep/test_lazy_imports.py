"""``--preload auto``'s extra modules, found without importing anything: submodules named by
``from PACKAGE import NAME`` and what the product's helpers import on first use."""

from __future__ import annotations

from mlops_nb.sweep import lazy_imports
from tests import nbbuild as b


def test_submodules_of_installed_packages_only() -> None:
    nb = b.notebook(
        b.code(
            "from json import decoder, loads\n"  # a package: decoder is a submodule, loads not
            "from os import path\n"  # a module, not a package
            "from no_such_package_here import thing\n"
            "from . import sibling\n"  # relative: the notebook's own folder
            "from json.decoder import JSONDecoder\n"  # already a dotted module
            "from json import *\n"
        )
    )
    assert lazy_imports.submodule_imports(nb) == ("json.decoder",)


def test_expand_adds_what_the_products_helpers_import_when_installed() -> None:
    nb = b.notebook(b.code("from mlops_nb import ml"))
    found = lazy_imports.expand(("pandas",), nb)
    assert found[:2] == ("pandas", "mlops_nb.ml")
    lazy = [m for m in lazy_imports.LAZY["mlops_nb.ml"] if lazy_imports._installed(m)]
    assert found[2:] == tuple(lazy) and "sklearn.metrics" in lazy
    assert len(found) == len(set(found))
    assert not lazy_imports._installed("no_such_package_here.sub")
