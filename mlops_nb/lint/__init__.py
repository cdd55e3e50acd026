"""Notebook hygiene rules (``mlops-nb lint``): linear execution and good practice.

Light: json and ast only; no nbformat, papermill or pandas.
"""

from __future__ import annotations

from mlops_nb.lint.api import KNOWN_CODES, LintReport, OptionsResolver, lint_notebook, lint_paths
from mlops_nb.lint.findings import UNREADABLE, Finding
from mlops_nb.lint.options import LintOptions
from mlops_nb.lint.rules import RULES

__all__ = [
    "KNOWN_CODES",
    "RULES",
    "UNREADABLE",
    "Finding",
    "LintOptions",
    "LintReport",
    "OptionsResolver",
    "lint_notebook",
    "lint_paths",
]
