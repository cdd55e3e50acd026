"""The commit step: lint each notebook *as saved*, and strip only the ones that pass.

Run as one step, so the order check never sees an already-stripped file and a notebook run out of
order never reaches the repository stripped of the evidence.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_nb.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, NotebookError
from mlops_nb.jupytext_adapter import is_text_notebook
from mlops_nb.lint.api import LintReport, OptionsResolver, lint_notebook, unreadable_finding
from mlops_nb.notebook.io import read_json, read_notebook, upgraded


@dataclass
class HookReport:
    """Findings of the lint step and the files the strip step rewrote."""

    lint: LintReport = field(default_factory=LintReport)
    stripped: list[tuple[str, str]] = field(default_factory=list)  # (path, what changed)

    @property
    def exit_code(self) -> int:
        if self.lint.unreadable:
            return EXIT_USAGE
        return EXIT_FAILED if self.lint.findings or self.stripped else EXIT_OK


def verify_then_strip(
    paths: Iterable[str | os.PathLike[str]],
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
) -> HookReport:
    """Lint every notebook; strip (in place) those without findings."""
    from mlops_nb.strip import StripOptionsResolver, strip_file

    lint_options = OptionsResolver(select=select, ignore=ignore)
    strip_options = StripOptionsResolver()
    report = HookReport()
    for path, (nb, nb4) in report.lint.each_readable(paths, _as_saved):
        findings = lint_notebook(nb4, path=str(path), options=lint_options.for_path(path))
        report.lint.findings.extend(findings)
        if findings or is_text_notebook(path):  # a text notebook has no outputs to strip
            continue
        try:
            what = strip_file(path, nb, options=strip_options.for_path(path), check=False)
        except NotebookError as e:
            report.lint.unreadable.append(unreadable_finding(path, e))
            continue
        if what is not None:
            report.stripped.append((str(path), what))
    return report


def _as_saved(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The notebook in its own nbformat version (stripped as it is) and upgraded to 4 (linted);
    a Jupytext text notebook (``.py``, ``.md``) is read through jupytext, and only linted."""
    if is_text_notebook(path):
        text_nb = read_notebook(path)
        return text_nb, text_nb
    nb = read_json(path, upgrade=False)
    return nb, upgraded(nb, source=str(path))
