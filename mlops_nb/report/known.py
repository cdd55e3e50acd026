"""The columns a page's runs have (``collect``'s names), for checking ``--sort`` and
``--metrics`` names: worked out per section and kept in the report cache with the section's
fingerprint, so that after a sweep only the sections whose runs changed are read again (at
100,000 runs, reading every run's parameter and scrap names cost ~0.25 s of each report)."""

from __future__ import annotations

from typing import Any

from mlops_nb.report import outline
from mlops_nb.report.cache import Cache
from mlops_nb.report.outline import Page, Selection


def page_columns(sel: Selection, page: Page, store: Cache) -> list[str]:
    """``outline.columns(sel)``, from the cache where the page's sections have not changed."""
    found = {o.key: _names(store.get(_key(store, sel, o))) for o in page.outlines}
    missing = [o for o in page.outlines if found[o.key] is None]
    if missing:
        whole = 2 * sum(o.count for o in missing) > page.total  # most runs: one read of all
        read = outline.column_keys(sel, None if whole else missing)
        for o in missing:
            found[o.key] = read.get(o.key, {"params": [], "scraps": []})
            store.put(_key(store, sel, o), found[o.key])
    names = [n for n in found.values() if n is not None]
    return outline.named_columns(
        [k for n in names for k in n["params"]], [k for n in names for k in n["scraps"]]
    )


def _key(store: Cache, sel: Selection, o: outline.Outline) -> str:
    return store.key("column names", sel.digest, o.key, o.fingerprint)


def _names(value: Any) -> dict[str, list[str]] | None:
    """A section's names from the cache (``{"params": [...], "scraps": [...]}``), else None."""
    if not isinstance(value, dict) or set(value) != {"params", "scraps"}:
        return None
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in value.values()):
        return None
    return value
