"""Strip: golden files for every option, what is kept byte for byte, files left alone."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest

from mlops_nb.commands.hook import strip_main
from mlops_nb.errors import ConfigError, NotebookError
from mlops_nb.main import main
from mlops_nb.nbstripout_adapter import StripOptions, notebook_text, strip_notebook
from mlops_nb.notebook.io import cell_lists
from mlops_nb.strip import options_from_table, strip_paths
from tests import nbbuild as b

GOLDEN = Path(__file__).parent / "golden" / "strip"
CASES = tomllib.loads((GOLDEN / "cases.toml").read_text(encoding="utf-8"))


def _options(spec: dict[str, Any]) -> dict[str, Any]:
    return {k.replace("-", "_"): v for k, v in spec.get("options", {}).items()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_strip_through_the_cli(tmp_path: Path, case: str) -> None:
    spec = CASES[case]
    target = tmp_path / "nb.ipynb"
    shutil.copy(GOLDEN / f"{spec['input']}.ipynb", target)
    if spec.get("options"):
        lines = [f"{k} = {json.dumps(v)}" for k, v in spec["options"].items()]
        (tmp_path / "pyproject.toml").write_text(
            "[tool.mlops-nb.strip]\n" + "\n".join(lines) + "\n", encoding="utf-8"
        )
    expected = (GOLDEN / f"{case}.expected.ipynb").read_text(encoding="utf-8")
    before = target.read_text(encoding="utf-8")
    code = main(["strip", str(target)])
    after = target.read_text(encoding="utf-8")
    if case == "already_stripped":
        assert (code, after) == (0, before)  # not rewritten, even in another layout
        assert notebook_text(json.loads(after)) == expected
    else:
        assert (code, after) == (1, expected)
        assert main(["strip", "--check", str(target)]) == 0  # idempotent


def _kept(nb: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            c.get("id"),
            c["cell_type"],
            "".join(c.get("source", c.get("input", ""))),
            c.get("metadata", {}).get("tags"),
        )
        for cells in cell_lists(nb)
        for c in cells
    ]


@pytest.mark.parametrize("case", sorted(CASES))
def test_sources_order_ids_and_tags_survive(case: str) -> None:
    spec = CASES[case]
    src = json.loads((GOLDEN / f"{spec['input']}.ipynb").read_text(encoding="utf-8"))
    out = json.loads((GOLDEN / f"{case}.expected.ipynb").read_text(encoding="utf-8"))
    if {"drop_empty_cells", "drop_tagged_cells"} & set(_options(spec)):
        # these options drop cells on purpose: the cells that remain are unchanged, in order
        kept = _kept(src)
        assert all(cell in kept for cell in _kept(out))
        assert [kept.index(cell) for cell in _kept(out)] == sorted(
            kept.index(c) for c in _kept(out)
        )
        assert len(_kept(out)) < len(kept)
        return
    assert _kept(out) == _kept(src)


def test_ids_are_kept_where_plain_nbstripout_renumbers_them() -> None:
    from nbformat import from_dict
    from nbstripout import strip_output

    nb = b.notebook(b.params("a = 1", id="my-params"), b.code("x", id="abc123", count=1))
    node = from_dict(nb)  # type: ignore[no-untyped-call]  # nbformat is untyped
    renumbered = strip_output(nb=node, keep_output=False, keep_count=False, keep_id=False)
    assert [c["id"] for c in renumbered["cells"]] == ["0", "1"]  # nbstripout#184
    ours = strip_notebook(nb, options=StripOptions())
    assert [c["id"] for c in ours["cells"]] == ["my-params", "abc123"]
    assert ours["cells"][0]["metadata"]["tags"] == ["parameters"]
    assert nb["cells"][1]["execution_count"] == 1  # the input was not modified


def test_several_drop_tagged_cells_are_all_dropped() -> None:
    nb = b.notebook(b.code("a", tags=["scratch"]), b.code("b", tags=["debug"]), b.code("c"))
    out = strip_notebook(nb, options=StripOptions(drop_tagged_cells=("scratch", "debug")))
    assert [c["source"] for c in out["cells"]] == ["c"]


def test_check_writes_nothing_and_lists_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    dirty = b.write(tmp_path / "dirty.ipynb", b.params("a = 1", count=1, outputs=out))
    clean = b.write(tmp_path / "clean.ipynb", b.params("a = 1"))
    before = dirty.read_bytes()
    assert main(["strip", "--check", str(tmp_path)]) == 1
    assert dirty.read_bytes() == before
    printed = capsys.readouterr().out
    assert f"{dirty}: would strip 1 output, 1 execution count" in printed
    assert str(clean) not in printed


def test_unchanged_files_keep_their_mtime_and_changed_ones_their_mode(tmp_path: Path) -> None:
    clean = b.write(tmp_path / "clean.ipynb", b.params("a = 1"))
    dirty = b.write(tmp_path / "dirty.ipynb", b.params("a = 1", count=1))
    os.utime(clean, (1_000_000, 1_000_000))
    dirty.chmod(0o640)
    assert strip_main([str(clean), str(dirty)]) == 1
    assert clean.stat().st_mtime == 1_000_000
    assert stat.S_IMODE(dirty.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files
    assert strip_main([str(clean), str(dirty)]) == 0


def test_written_files_use_nbformats_layout(tmp_path: Path) -> None:
    import nbformat

    path = b.write(tmp_path / "x.ipynb", b.markdown("é ✓"), b.params("a = 1\nb = 2", count=1))
    strip_paths([path])
    node = nbformat.read(path, as_version=nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]
    expected = nbformat.writes(node) + "\n"  # type: ignore[no-untyped-call]
    assert path.read_text(encoding="utf-8") == expected
    assert notebook_text(json.loads(path.read_text(encoding="utf-8"))) == path.read_text("utf-8")


def test_unreadable_files_are_reported_and_others_stripped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.ipynb").write_text('{"nbformat": 4', encoding="utf-8")
    dirty = b.write(tmp_path / "b.ipynb", b.params("a = 1", count=1))
    assert main(["strip", str(tmp_path)]) == 2
    assert json.loads(dirty.read_text(encoding="utf-8"))["cells"][0]["execution_count"] is None
    assert "a.ipynb: NB000 not a valid notebook" in capsys.readouterr().err


def test_contradicting_keep_output_metadata_is_a_notebook_error() -> None:
    cell = b.code("x", tags=["keep_output"])
    cell["metadata"]["keep_output"] = False
    with pytest.raises(NotebookError, match="cannot strip"):
        strip_notebook(b.notebook(cell), options=StripOptions())


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"extra_keys": ["cell.metadata.tags"]}, "never strips cell ids, sources, tags"),
        ({"extra_keys": ["cell.metadata"]}, "cell.metadata: mlops-nb never strips"),
        ({"extra_keys": ["metadata.kernelspec"]}, "or the kernelspec (run and lint need them"),
        ({"extra_keys": ["metadata.kernelspec.name"]}, "kernelspec.name: mlops-nb never"),
        ({"extra_keys": ["cell.source", "cell.outputs"]}, "cell.outputs, cell.source: mlops"),
        ({"drop_tagged_cells": ["scratch", "parameters"]}, "drop-tagged-cells 'parameters'"),
        ({"keep_id": False}, "unknown setting(s) keep-id"),
        ({"keep_output": "yes"}, "keep-output must be true or false"),
        ({"extra_keys": [1]}, "extra-keys must be a list of strings"),
        ({"max_size": "huge"}, "is not a size"),
    ],
    ids=[
        "protected-key",
        "cell-metadata",
        "kernelspec",
        "below-kernelspec",
        "structure",
        "drop-parameters",
        "keep-id",
        "bool",
        "list",
        "size",
    ],
)
def test_bad_strip_settings(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="pyproject") as info:
        options_from_table(table, where="pyproject.toml [tool.mlops-nb.strip]")
    assert message in info.value.message


def test_string_lists_and_sizes_in_settings() -> None:
    opts = options_from_table(
        {"extra_keys": "metadata.a cell.metadata.b", "max_size": "1k"}, where="x"
    )
    assert opts.extra_keys == ("metadata.a", "cell.metadata.b")
    assert opts.max_size == 1000


def test_code_cell_without_outputs_is_unreadable_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = {
        "cells": [{"cell_type": "code", "execution_count": 2, "metadata": {}, "source": "x = 1"}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    path = tmp_path / "odd.ipynb"
    path.write_text(json.dumps(nb))
    assert strip_main([str(path)]) == 2
    captured = capsys.readouterr()
    assert "code cell 1 has no 'outputs' list" in captured.out + captured.err
