"""The nbconvert adapter: one run's output notebook as one offline HTML page.

nbconvert's ``lab`` template loads require.js, MathJax and mermaid from CDNs; ours
(``nbconvert_offline/``) extends it without them and adds the report's Content-Security-Policy,
so the page loads nothing and runs no script. ``no_input`` hides code cells and prompts
(papermill's "report mode"). Needs the ``[html]`` extra (nbconvert).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

TEMPLATE_DIR = Path(__file__).parent / "nbconvert_offline"


def notebook_html(nb: dict[str, Any], *, no_input: bool = False) -> str:
    """The notebook (an nbformat-4 dict) as a self-contained HTML page.

    Raises ``MissingExtraError`` without nbconvert. Source: nbconvert's ``HTMLExporter``
    (``exclude_input``, ``exclude_input_prompt``, ``exclude_output_prompt``, ``embed_images``).
    """
    try:
        import nbformat
        from nbconvert import HTMLExporter
    except ImportError:
        from mlops_nb.errors import missing_extra

        raise missing_extra("nbconvert", "html", "mlops-nb show --html") from None
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        extra_template_basedirs=[str(TEMPLATE_DIR.parent)],
        template_name=TEMPLATE_DIR.name,
        exclude_input=no_input,
        exclude_input_prompt=no_input,
        exclude_output_prompt=no_input,
        embed_images=True,
    )
    import json

    # nbformat.reads joins the list-of-lines sources Jupyter saves (from_dict would not)
    node = nbformat.reads(json.dumps(nb), as_version=4)  # type: ignore[no-untyped-call]
    import warnings

    with warnings.catch_warnings():
        # scraps (application/scrapbook...) have no HTML form: leaving them out is the point
        warnings.filterwarnings("ignore", "Your element with mimetype", UserWarning)
        body, _ = exporter.from_notebook_node(node)
    return str(body)


def write_run_html(folder: Path, output: str | os.PathLike[str], *, no_input: bool = False) -> Path:
    """Write the run folder's ``output.ipynb`` as HTML to ``output``; returns the path."""
    from mlops_nb.notebook.io import read_json, write_user_file, writing

    page = notebook_html(read_json(folder / "output.ipynb"), no_input=no_input)
    path = Path(output)
    with writing(path):
        write_user_file(path, page, mode=0o644)  # a page to share
    return path
