"""Which notebook a run's section is: the notebook's path relative to the store's project root,
from its recorded absolute path (``notebook.abspath``), so that the same notebook started from
two folders (``mlops-nb run d2/nb.py`` from the project, ``mlops-nb run nb.py`` from ``d2/``)
is one section, and two notebooks named alike (``nb.py``, ``d2/nb.py``) are two. A record
without an absolute path (older records), or whose notebook lies outside the project, keeps
the path it recorded (relative to the folder it was started from). Records are not rewritten:
the key is worked out when the index is read (review5 item 6).

The project root is the folder holding ``.git`` or ``.dvc`` at or above the runs folder's
parent (as ``pipeline export``'s), else the runs folder's parent (``project/runs``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path


def project_root(runs_dir: Path) -> str:
    """The store's project root (module doc), a real path."""
    return _root(os.path.realpath(runs_dir))  # a relative path means another folder after cd


@functools.cache
def _root(real: str) -> str:
    parent = Path(real).parent
    for d in (parent, *parent.parents):
        if (d / ".git").exists() or (d / ".dvc").is_dir():
            return str(d)
    return str(parent)


def key_sql(runs_dir: Path) -> str:
    """The SQL expression of a run's notebook key over the runs index (module doc)."""
    root = project_root(runs_dir)
    prefix = root if root.endswith("/") else root + "/"
    literal = "'" + prefix.replace("'", "''") + "'"  # a path holds no NUL; '' is SQL's quote
    return (
        f"(CASE WHEN substr(notebook_abspath, 1, {len(prefix)}) = {literal} "
        f"THEN substr(notebook_abspath, {len(prefix) + 1}) ELSE notebook END)"
    )
