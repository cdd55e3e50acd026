"""The one door to nbstripout (and to nbformat's writer): pinned semantics, keyword arguments only.

What this module guarantees on top of ``nbstripout.strip_output`` (0.8/0.9):

- cell ids are always kept: we pass ``keep_id=True`` (without it nbstripout renumbers ids to
  ``"0"``, ``"1"``..., nbstripout#184);
- ``drop_tagged_cells`` is done here: nbstripout 0.9.1 builds its filters in a loop of lambdas
  that all see the *last* tag, so only the last of several tags was honoured;
- settings that would delete what ``run`` and ``lint`` need are refused: extra keys reaching ids,
  sources, tags or the kernelspec (``cell.id``, ``cell.metadata``, ``metadata.kernelspec``...), so the
  ``parameters`` tag can never be stripped (the nb-clean#42 failure), and ``drop-tagged-cells``
  naming ``parameters``;
- the ``parameters`` cell is never dropped: ``drop_empty_cells`` and ``drop_tagged_cells`` are done
  here and keep it (an empty parameters cell is a valid one: papermill injects after it);
- nbformat 2/3 notebooks are stripped in their own version, as nbstripout does (its
  ``drop_empty_cells`` would drop every nbformat-3 code cell: they hold ``input``, not ``source``);
- cells tagged ``keep_output`` keep their outputs even with ``keep_output_types`` (nbstripout 0.9.1
  then filters the outputs of every cell, tagged or not);
- nbstripout's exceptions become ``NotebookError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_nb.errors import ConfigError, NotebookError
from mlops_nb.notebook.io import PARAMETERS_TAG, cell_lists, major_version, tags_of

# nbstripout's own defaults (its CLI adds them; its API does not), plus papermill's timing records.
DEFAULT_EXTRA_KEYS: tuple[str, ...] = (
    "metadata.signature",
    "metadata.widgets",
    "metadata.papermill",
    "cell.metadata.collapsed",
    "cell.metadata.ExecuteTime",
    "cell.metadata.execution",
    "cell.metadata.heading_collapsed",
    "cell.metadata.hidden",
    "cell.metadata.scrolled",
    "cell.metadata.papermill",
)
# What run and lint read: an extra key equal to one of these, above one (``cell.metadata``) or
# below one (``metadata.kernelspec.name``) is refused. papermill picks the kernel from the
# kernelspec; lint's NB501 asks for it.
PROTECTED_KEYS = frozenset(
    {
        "cell.id",
        "cell.cell_type",
        "cell.source",
        "cell.input",
        "cell.outputs",
        "cell.execution_count",
        "cell.prompt_number",
        "cell.metadata.tags",
        "metadata.kernelspec",
    }
)


def _protected(key: str) -> bool:
    return any(
        key == p or p.startswith(key + ".") or key.startswith(p + ".") for p in PROTECTED_KEYS
    )


@dataclass(frozen=True)
class StripOptions:
    """What to strip. Mirrors nbstripout's options, except ids, which are always kept."""

    keep_output: bool | None = None  # None: the notebook's metadata.keep_output decides
    keep_count: bool = False
    extra_keys: tuple[str, ...] = ()
    keep_metadata_keys: tuple[str, ...] = ()
    drop_empty_cells: bool = False
    drop_tagged_cells: tuple[str, ...] = ()
    strip_init_cells: bool = False
    drop_output_types: tuple[str, ...] = ()
    keep_output_types: tuple[str, ...] = ()
    max_size: int = 0

    def __post_init__(self) -> None:
        bad = sorted(k for k in self.extra_keys if _protected(k))
        if bad:
            raise ConfigError(
                f"extra-keys {', '.join(bad)}: mlops-nb never strips cell ids, sources, tags or "
                "the kernelspec (run and lint need them; the 'parameters' tag must survive). "
                "Remove them from extra-keys."
            )
        if PARAMETERS_TAG in self.drop_tagged_cells:
            raise ConfigError(
                "drop-tagged-cells 'parameters': the parameters cell is what run, sweep and lint "
                "read the notebook's parameters from, so it is never dropped. Remove it from "
                "drop-tagged-cells."
            )

    def removes_more_than_outputs(self) -> bool:
        """Whether these settings drop cells or extra metadata (beyond outputs, counts and the
        default volatile keys, none of which lint or run reads)."""
        return bool(self.drop_empty_cells or self.drop_tagged_cells or self.extra_keys)

    def metadata_keys(self) -> list[str]:
        keys = [*DEFAULT_EXTRA_KEYS, *self.extra_keys]
        return [k for k in dict.fromkeys(keys) if k not in self.keep_metadata_keys]


def strip_notebook(nb: Mapping[str, Any], *, options: StripOptions) -> dict[str, Any]:
    """A stripped copy of a notebook dict (the input is not modified)."""
    from nbstripout import MetadataError, strip_output

    if nb.get("nbformat") == 1:  # nbstripout fails on these too (no metadata, no worksheets)
        raise NotebookError(
            "cannot strip an nbformat 1 notebook in its own version; upgrade the file once with "
            "`jupyter nbconvert --to notebook --inplace NOTEBOOK.ipynb` (lint and run read it as "
            "it is)."
        )
    node = _node(nb)
    _clear_outputs_nbstripout_would_drop(node, options)
    _drop_cells(node, options)
    kept = _tagged_outputs(node) if options.keep_output_types else {}
    try:
        out = strip_output(
            nb=node,
            keep_output=options.keep_output,
            keep_count=options.keep_count,
            keep_id=True,
            extra_keys=options.metadata_keys(),
            drop_empty_cells=False,
            drop_tagged_cells=[],
            strip_init_cells=options.strip_init_cells,
            drop_output_types=set(options.drop_output_types),
            keep_output_types=set(options.keep_output_types),
            max_size=options.max_size,
        )
    except MetadataError as e:
        raise NotebookError(
            f"cannot strip: {e}. Make the cell's metadata and tags agree."
        ) from None
    except (AttributeError, TypeError, KeyError, ValueError) as e:
        raise NotebookError(
            f"cannot strip: malformed notebook ({type(e).__name__}: {e})."
        ) from None
    for cells in cell_lists(out):
        for cell in cells:
            if id(cell) in kept:
                cell["outputs"] = _filtered(kept[id(cell)], options)
    return out  # type: ignore[no-any-return]


def _drop_cells(node: Any, options: StripOptions) -> None:
    """``drop_tagged_cells`` and ``drop_empty_cells``, keeping the parameters cell(s)."""
    drop = set(options.drop_tagged_cells)
    if not (drop or options.drop_empty_cells):
        return

    def keep(cell: Any) -> bool:
        tags = tags_of(cell) if isinstance(cell, dict) else []
        if PARAMETERS_TAG in tags:
            return True
        if drop.intersection(tags):
            return False
        return not options.drop_empty_cells or _has_source(cell)

    for cells in cell_lists(node):
        cells[:] = [c for c in cells if keep(c)]


def _has_source(cell: Any) -> bool:
    """nbstripout's test for an empty cell, reading nbformat 3's ``input`` too."""
    if not isinstance(cell, dict):
        return True
    src = cell.get("source", cell.get("input", ""))
    lines = [src] if isinstance(src, str) else src if isinstance(src, list) else []
    return any(isinstance(line, str) and line.strip() for line in lines)


def _node(nb: Mapping[str, Any]) -> Any:
    """A ``NotebookNode`` copy of what nbstripout changes, sharing everything else with ``nb``.

    nbstripout reads ``nb.metadata`` and ``cell.metadata`` as attributes, pops metadata keys,
    replaces cell lists and sets ``execution_count`` on outputs: those are copied (metadata deeply,
    outputs one level). Sources are only read, so they are shared: a full ``from_dict`` copy was
    half of the time of ``strip --check``.
    """
    import nbformat

    # nbformat is untyped: name its two constructors with the types they have.
    NotebookNode: Callable[[Any], Any] = nbformat.NotebookNode
    from_dict: Callable[[Any], Any] = nbformat.from_dict

    def cell(c: Any) -> Any:
        if not isinstance(c, dict):
            return c
        out = NotebookNode(c)
        if "metadata" in c:
            out["metadata"] = from_dict(c["metadata"])
        if isinstance(c.get("outputs"), list):
            out["outputs"] = [dict(o) if isinstance(o, dict) else o for o in c["outputs"]]
        return out

    node = NotebookNode(nb)
    node["metadata"] = from_dict(nb.get("metadata", {}))
    if major_version(nb) >= 4 or nb.get("nbformat") == 1:
        node["cells"] = [cell(c) for c in nb["cells"]]
    else:
        node["worksheets"] = [
            NotebookNode({**ws, "cells": [cell(c) for c in ws.get("cells", [])]})
            for ws in nb["worksheets"]
        ]
    return node


def _clear_outputs_nbstripout_would_drop(node: Any, options: StripOptions) -> None:
    """Empty, in advance, output lists that nbstripout would empty anyway.

    With ``max_size`` 0 and no ``keep_output_types``, nbstripout drops every output of a cell
    whose output is not kept, but first measures each one (``get_size`` walks every string):
    that was a third of ``strip --check`` on notebooks with images. Only outputs with a
    non-empty ``output_type`` (size > 0, so certainly dropped) are cleared; nbstripout still
    decides everything else.
    """
    if options.max_size or options.keep_output_types:
        return
    keep = options.keep_output
    if keep is None:
        md = node.get("metadata")
        keep = not isinstance(md, dict) or bool(md.get("keep_output", False))
    if keep:
        return
    for cell in (c for cells in cell_lists(node) for c in cells):
        md = cell.get("metadata") if isinstance(cell, dict) else None
        if not isinstance(md, dict) or "init_cell" in md or "keep_output" in md:
            continue
        tags = md.get("tags")
        if isinstance(tags, list) and "keep_output" in tags:
            continue
        outputs = cell.get("outputs")
        if isinstance(outputs, list) and outputs:
            cell["outputs"] = [
                o
                for o in outputs
                if not (
                    isinstance(o, dict)
                    and isinstance(o.get("output_type"), str)
                    and o["output_type"]
                )
            ]


def _tagged_outputs(node: Mapping[str, Any]) -> dict[int, list[Any]]:
    """Outputs of the cells tagged ``keep_output``, by cell object (the cells are not copied)."""
    return {
        id(c): list(c["outputs"])
        for cells in cell_lists(node)
        for c in cells
        if "keep_output" in tags_of(c) and isinstance(c.get("outputs"), list)
    }


def _filtered(outputs: list[Any], options: StripOptions) -> list[Any]:
    """What nbstripout does to the outputs of a cell it keeps (counts, dropped types)."""
    out = []
    for o in outputs:
        kind = f"{o.get('output_type')}:{o.get('name')}" if isinstance(o, dict) else ""
        if any(t in (kind, kind.split(":")[0]) for t in options.drop_output_types):
            continue
        if not options.keep_count and isinstance(o, dict) and "execution_count" in o:
            o["execution_count"] = None
        out.append(o)
    return out


def notebook_text(nb: Mapping[str, Any]) -> str:
    """The notebook as ``nbformat.write`` formats it (indent 1, sorted keys, lines split), in its
    own nbformat version, without re-validating it against the schema (the expensive part)."""
    import nbformat

    version = major_version(nb)
    writes: Callable[[Any], str] = nbformat.versions[
        version if 1 <= version <= 3 else 4
    ].writes_json
    from_dict: Callable[[Any], Any] = nbformat.from_dict
    text = writes(from_dict(dict(nb)))
    return text if text.endswith("\n") else text + "\n"
