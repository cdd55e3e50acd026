"""What the command line's own process does not import.

jsonschema (imported by nbformat, hence by papermill and scrapbook) imports the optional
``rfc3987_syntax`` package when it is installed, for its ``iri`` format checkers, and that package
builds a grammar at import time: ~0.8 s where JupyterLab is installed (it comes with
jupyter-events' ``jsonschema[format-nongpl]``; measured in FACTS.md "Import cost"), ~1 s on every
``mlops-nb run``/``sweep`` before a kernel starts. The command line validates notebooks against
nbformat's schema, which checks no ``iri`` formats, so its process goes without. Only the CLI's
process: kernels are other processes (the user's code there gets the full jsonschema), and a
program importing ``mlops_nb`` as a library is left alone.
"""

from __future__ import annotations

import sys

NOT_IMPORTED = ("rfc3987_syntax",)


def skip_optional_imports() -> None:
    """Make ``import`` of ``NOT_IMPORTED`` fail (ImportError, which jsonschema expects of an
    optional package) in this process, unless it is already imported."""
    for name in NOT_IMPORTED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
