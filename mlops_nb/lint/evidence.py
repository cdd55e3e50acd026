"""What stripping must neither erase nor create, so that no hook order lets a bad notebook land.

pre-commit runs every hook of a commit even after one failed (unless ``fail_fast``), and runs them
in the order the user wrote. If ``strip`` cleared the execution counts and outputs of a notebook
that ``lint`` rejects for them, the user's next ``git add`` + commit would pass: the evidence would
be gone. So ``strip`` itself refuses a notebook with such findings (``EVIDENCE_CODES``), whatever
the hooks' subset or order; the user fixes it (Restart & Run All, save) or clears its outputs.

And a strip setting must never turn a notebook lint accepts into one it rejects (an empty
``parameters`` cell dropped: NB201): ``introduced`` finds what stripping would create.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mlops_nb.lint.api import KNOWN_CODES, lint_notebook
from mlops_nb.lint.findings import Finding
from mlops_nb.lint.options import LintOptions

# Findings whose evidence lives in execution counts and outputs, which stripping clears: the
# order of execution (NB101), skipped cells (NB102), error outputs (NB103).
EVIDENCE_CODES = frozenset({"NB101", "NB102", "NB103"})
# What stripping can create: it drops cells, counts and metadata, never adds outputs or changes
# sources, so error outputs (NB103), long cells and definitions (NB3xx) and big outputs (NB4xx)
# cannot appear; leaving those rules out keeps `strip` fast.
_STRIP_CAN_CREATE = LintOptions(
    select=("NB1", "NB2", "NB5"), ignore=("NB103",), known_codes=KNOWN_CODES
)


def evidence(nb: Mapping[str, Any], *, path: str, options: LintOptions) -> list[Finding]:
    """The enabled findings in ``EVIDENCE_CODES`` of an nbformat-4 notebook dict."""
    codes = tuple(sorted(c for c in EVIDENCE_CODES if options.enabled(c)))
    if not codes:
        return []
    only = replace(options, select=codes, ignore=())
    return lint_notebook(nb, path=path, options=only)


def introduced(before: Mapping[str, Any], after: Mapping[str, Any], *, path: str) -> list[Finding]:
    """Findings (every rule stripping could trigger) of ``after`` whose code ``before`` lacks.

    Both are nbformat-4 notebook dicts: a notebook and its stripped copy.
    """
    made = lint_notebook(after, path=path, options=_STRIP_CAN_CREATE)
    if not made:
        return []
    old = {f.code for f in lint_notebook(before, path=path, options=_STRIP_CAN_CREATE)}
    return [f for f in made if f.code not in old]
