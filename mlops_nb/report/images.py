"""The images a run saved, for the report: image artifacts in its folder, then the figures in
its output notebook, as ``data:`` URIs (the page loads nothing). An "image" output that is not
base64 is left out: nothing from a notebook goes into ``src`` unchecked.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_nb.report.views import Image

MAX_IMAGES_PER_RUN = 8
MAX_IMAGE_BYTES = 2 * 2**20  # a bigger picture is linked, not embedded
IMAGE_RUNS_PER_SECTION = 3  # images of the best few runs of a section (and of pipeline steps)
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _output_images(nb: Mapping[str, Any]) -> list[Image]:
    out: list[Image] = []
    number = 0  # cells counted from 1 in the user's notebook (the injected cell is not theirs)
    for cell in nb.get("cells", []) if isinstance(nb.get("cells"), list) else []:
        if not isinstance(cell, dict):
            continue
        tags = (cell.get("metadata") or {}).get("tags") or []
        if "injected-parameters" in tags:
            continue
        number += 1
        if cell.get("cell_type") != "code":
            continue
        for o in cell.get("outputs") or []:
            data = o.get("data") if isinstance(o, dict) else None
            if not isinstance(data, dict):
                continue
            for mime in ("image/png", "image/jpeg", "image/svg+xml"):
                value = data.get(mime)
                if isinstance(value, list):
                    value = "".join(str(v) for v in value)
                if not isinstance(value, str):
                    continue
                if mime == "image/svg+xml":
                    uri = _data_uri(mime, value.encode("utf-8"))
                else:
                    b64 = re.sub(r"\s+", "", value)
                    if not _BASE64.match(b64):
                        continue  # not an image: never put arbitrary text into src
                    uri = f"data:{mime};base64,{b64}"
                if len(uri) <= MAX_IMAGE_BYTES * 4 // 3 + 64:
                    out.append(Image(f"cell {number}", uri))
                break  # one picture per output (png preferred)
    return out


def run_images(folder: Path, record: Mapping[str, Any]) -> list[Image]:
    """Images the run saved: image artifacts (in its folder), then figures in its output
    notebook (cells numbered from 1, as in every message), at most ``MAX_IMAGES_PER_RUN``."""
    images: list[Image] = []
    root = folder.resolve()
    for rel in sorted(record.get("artifacts") or {}):
        mime = _IMAGE_TYPES.get(Path(str(rel)).suffix.lower())
        path = (folder / str(rel)).resolve()
        if mime is None or not path.is_relative_to(root):
            continue
        try:
            if path.stat().st_size <= MAX_IMAGE_BYTES:
                images.append(Image(str(rel), _data_uri(mime, path.read_bytes())))
        except OSError:
            continue
    try:
        nb = json.loads((folder / "output.ipynb").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        nb = {}
    if isinstance(nb, dict):
        images += _output_images(nb)
    return images[:MAX_IMAGES_PER_RUN]
