"""The DVC identity of a run's input files, read from DVC's own records without DVC installed.

The ``.dvc`` and ``dvc.lock`` files here are written in DVC's documented formats (DVC 3, and DVC 2
for the CRLF rule; see ``mlops_nb/dvc_adapter.py``); the ``repro`` environment checks the same
reading against files the real ``dvc add`` / ``dvc repro`` wrote (tests/pipeline/test_dvc.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mlops_nb import dvc_adapter as dvc


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _dvc_file(data: Path, *, md5: str, size: int, legacy: bool = False) -> Path:
    record = data.with_name(data.name + ".dvc")
    hash_line = "" if legacy else "  hash: md5\n"
    record.write_text(
        f"outs:\n- md5: {md5}\n  size: {size}\n{hash_line}  path: {data.name}\n", encoding="utf-8"
    )
    return record


def test_a_file_added_with_dvc_add(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(b"a,b\n1,2\n")
    record = _dvc_file(data, md5=_md5(data.read_bytes()), size=8)
    found = dvc.identity(data)
    assert found == {
        "md5": _md5(b"a,b\n1,2\n"),
        "size": 8,
        "hash": "md5",
        "file": str(record.resolve()),
        "matches": True,
    }
    assert dvc.describe(found) == f"DVC md5 {found['md5'][:8]} (data.csv.dvc)"


def test_data_changed_since_dvc_recorded_it_is_flagged(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(b"a,b\n1,2\n")
    _dvc_file(data, md5=_md5(b"a,b\n1,2\n"), size=8)
    data.write_bytes(b"a,b\n1,3\n")  # edited without `dvc add`
    found = dvc.identity(data)
    assert found is not None and found["matches"] is False
    assert dvc.describe(found).endswith("(data.csv.dvc; data differ from it)")


def test_dvc_2_records_hashed_text_with_crlf_as_lf(tmp_path: Path) -> None:
    data = tmp_path / "win.txt"
    data.write_bytes(b"line one\r\nline two\r\n")
    _dvc_file(data, md5=_md5(b"line one\nline two\n"), size=20, legacy=True)
    assert dvc.identity(data)["matches"] is True  # type: ignore[index]
    # DVC 3 (hash: md5) hashes the bytes as they are: the same md5 no longer matches
    _dvc_file(data, md5=_md5(b"line one\nline two\n"), size=20)
    dvc._read.cache_clear()
    assert dvc.identity(data)["matches"] is False  # type: ignore[index]


def test_stage_outputs_and_deps_are_found_in_dvc_lock_up_the_tree(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    model = tmp_path / "out" / "model.pkl"
    model.parent.mkdir()
    model.write_bytes(b"model")
    raw = tmp_path / "raw.csv"
    raw.write_bytes(b"raw")
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n"
        f"    deps:\n    - path: raw.csv\n      md5: {_md5(b'raw')}\n      size: 3\n"
        f"    outs:\n    - path: out/model.pkl\n      hash: md5\n      md5: {_md5(b'model')}\n"
        "      size: 5\n    - path: out/broken\n",  # an entry without md5 is skipped
        encoding="utf-8",
    )
    found = dvc.identity(model)
    assert found is not None
    assert (found["md5"], found["size"], found["matches"]) == (_md5(b"model"), 5, True)
    assert found["file"] == str((tmp_path / "dvc.lock").resolve())
    assert dvc.identity(raw)["md5"] == _md5(b"raw")  # type: ignore[index]


def test_a_tracked_folder_is_compared_by_dvc_not_here(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"png")
    (tmp_path / "images.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  size: 3\n  nfiles: 1\n"
        "  hash: md5\n  path: images\n",
        encoding="utf-8",
    )
    found = dvc.identity(folder)
    assert found is not None
    assert (found["nfiles"], found["matches"]) == (1, None)


@pytest.mark.parametrize(
    "record",
    [
        "outs: [unclosed\n",
        "just text\n",
        "outs:\n- path: data.csv\n  size: 3\n",
        "outs: 3\n",
        "outs:\n- 3\n- md5: 1\n  path: 7\n",
        "stages: [1, 2]\n",
        "stages:\n  a: 1\n  b:\n    outs: {path: data.csv}\n",
    ],
    ids=[
        "broken-yaml",
        "not-a-mapping",
        "no-md5",
        "outs-not-a-list",
        "entries-not-mappings",
        "stages-not-a-mapping",
        "stage-parts-of-other-shapes",
    ],
)
def test_a_record_that_says_nothing_usable_means_untracked(tmp_path: Path, record: str) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(b"abc")
    (tmp_path / "data.csv.dvc").write_text(record, encoding="utf-8")
    assert dvc.identity(data) is None


def test_untracked_files_have_no_identity(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    data = tmp_path / "sub" / "free.csv"
    data.parent.mkdir()
    data.write_bytes(b"x")
    assert dvc.identity(data) is None  # in a DVC project, but neither added nor a stage output
    loose = tmp_path.parent / f"{tmp_path.name}-loose.csv"
    loose.write_bytes(b"x")
    try:
        assert dvc.identity(loose) is None
    finally:
        loose.unlink()


def test_annotate_adds_the_identity_to_tracked_inputs_only(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(b"abc")
    _dvc_file(data, md5=_md5(b"abc"), size=3)
    (tmp_path / "other.csv").write_bytes(b"x")
    inputs: dict[str, dict[str, object]] = {
        "data.csv": {"sha256": "..."},
        "other.csv": {"sha256": "..."},
        str(data): {"sha256": "..."},
        "missing.csv": {"sha256": "..."},
    }
    out = dvc.annotate(inputs, [tmp_path / "nowhere", tmp_path])
    assert out is inputs
    assert out["data.csv"]["dvc"]["md5"] == _md5(b"abc")
    assert out[str(data)]["dvc"]["md5"] == _md5(b"abc")
    assert "dvc" not in out["other.csv"] and "dvc" not in out["missing.csv"]
