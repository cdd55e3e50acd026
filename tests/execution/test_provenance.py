"""Provenance without a kernel: input hashes that never drop an input silently, the files a run
wrote, the run key, the package list; the record's error list; papermill's partial saves."""

from __future__ import annotations

import os
import types
from pathlib import Path

import pytest

from mlops_nb.execution import cell_errors, papermill_adapter, provenance


def test_input_hashes_name_what_they_could_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1\n")
    os.symlink("gone.csv", data / "broken.csv")
    os.mkfifo(data / "pipe")
    os.symlink(data, data / "loop")  # a linked folder counts as a link, not walked
    os.mkfifo(tmp_path / "fifo")
    os.symlink("nowhere", tmp_path / "dangling")
    params = {
        "data": "data",
        "pipe": "fifo",
        "link": "dangling",
        "both": ["data/a.csv", {"k": "data/a.csv"}],  # strings inside lists and dicts count
        "text": "not a path",
        "skipped": "data",
        "multi": "a\nb",
        "builtin": "builtin:iris",
    }
    out = provenance.input_hashes(params, base_dirs=[tmp_path], skip=frozenset({"skipped"}))
    assert set(out) == {"data", "fifo", "dangling", "data/a.csv"}
    folder = out["data"]
    assert folder["param"] == "data" and folder["by"] == "content" and folder["files"] == 4
    assert folder["unreadable"] == {
        "broken.csv": "broken link -> gone.csv",
        "pipe": "not a regular file (not read)",
    }
    assert out["fifo"]["sha256"] is None and "not a regular file" in out["fifo"]["not_hashed"]
    assert out["dangling"]["link"] == "nowhere" and out["dangling"]["size"] is None
    assert out["data/a.csv"]["param"] == "both"
    err = capsys.readouterr().err
    assert "input 'fifo' (parameter pipe) not hashed" in err
    assert "input 'data' (parameter data): recorded but not readable" in err
    # retargeting a link is a change
    os.remove(data / "broken.csv")
    os.symlink("other.csv", data / "broken.csv")
    again = provenance.input_hashes({"data": "data"}, base_dirs=[tmp_path])
    assert again["data"]["sha256"] != folder["sha256"]


def folder_of(folder: Path, n: int) -> Path:
    for i in range(n):
        (folder / f"{i}.txt").write_text(str(i))
    return folder


def test_a_folder_too_large_to_scan_is_recorded_not_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provenance, "MAX_SCAN_ENTRIES", 3)
    digest = provenance.dir_digest(folder_of(tmp_path, 5))
    assert digest["sha256"] is None and digest["files"] == 5
    assert digest["not_hashed"].startswith("too large: the scan stopped after 5 files")
    # an input nobody could hash: no run key ever matches it (never reused as identical work)
    inputs = {"big": digest}
    assert provenance.run_key("c", {}, inputs) != provenance.run_key("c", {}, inputs)


def test_many_files_are_hashed_by_size_and_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provenance, "_MAX_DIR_FILES", 2)
    digest = provenance.dir_digest(folder_of(tmp_path, 3))
    assert digest["by"] == "size+mtime" and digest["size"] == 3
    (tmp_path / "0.txt").write_text("changed")
    assert provenance.dir_digest(tmp_path)["sha256"] != digest["sha256"]


def test_artifacts_leave_out_the_stores_own_files(tmp_path: Path) -> None:
    for name in ("run.json", "output.ipynb", "model.pkl", ".run.json.tmp"):
        (tmp_path / name).write_text(name)
    for folder in ("output-streams", ".ipynb_checkpoints", "plots"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "f.txt").write_text(folder)
    found = provenance.artifacts(tmp_path)
    assert set(found) == {"model.pkl", "plots/f.txt"}
    assert found["model.pkl"]["size"] == len("model.pkl")


def test_packages_digest_leaves_out_installer_tooling() -> None:
    pkgs = {"numpy": "2.0", "pip": "24.0"}
    assert provenance.packages_digest(pkgs) == provenance.packages_digest(
        {"numpy": "2.0", "pip": "9.0", "wheel": "0.1"}
    )
    assert provenance.packages_digest(pkgs) != provenance.packages_digest({"numpy": "2.1"})


def test_installed_packages_read_egg_info_and_odd_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Old_Lib-1.2-py3.11.egg-info").mkdir()
    meta = tmp_path / "noversion.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: No.Version\nVersion: 3.4\n")
    (tmp_path / "junk.dist-info").mkdir()  # no version, no metadata: not a package we can name
    (tmp_path / "readme.txt").write_text("")
    monkeypatch.setattr("sys.path", [str(tmp_path), str(tmp_path / "missing")])
    provenance.installed_packages.cache_clear()
    try:
        assert provenance.installed_packages() == {"no-version": "3.4", "old-lib": "1.2"}
    finally:
        provenance.installed_packages.cache_clear()


def test_every_cell_error_but_a_clean_exit() -> None:
    def error(ename: str, evalue: str) -> dict[str, str]:
        return {"output_type": "error", "ename": ename, "evalue": evalue}

    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "outputs": []},
            {"cell_type": "markdown", "metadata": {}, "source": "x"},
            {
                "cell_type": "code",
                "metadata": {},
                "id": "c1",
                "outputs": [error("E", "\x1b[31mred")],
            },
            {"cell_type": "code", "metadata": {}, "outputs": [error("SystemExit", "0")]},
            {"cell_type": "code", "metadata": {}, "outputs": [{"output_type": "stream"}]},
            {"cell_type": "code", "metadata": {}, "outputs": [error("SystemExit", "2")]},
        ]
    }
    assert cell_errors.all_errors(nb) == [
        {"ename": "E", "evalue": "red", "cell_index": 1, "cell_id": "c1"},
        {"ename": "SystemExit", "evalue": "2", "cell_index": 4, "cell_id": None},
    ]


def test_partial_saves_stop_at_the_first_os_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    partial = tmp_path / "partial.ipynb"
    partial.write_text("{}")
    calls: list[object] = []

    def save(**kwargs: object) -> None:
        calls.append(kwargs)
        raise OSError(28, "No space left on device")

    tolerant = papermill_adapter._tolerant(save, str(partial), types.SimpleNamespace())
    assert tolerant(nb=1) is None and tolerant(nb=2) is None
    assert len(calls) == 1  # given up after the first failure
    assert not partial.exists()  # a stale partial notebook is not left behind
    assert "partial output notebook no longer saved: No space left on device" in caplog.text
    done = papermill_adapter._tolerant(save, None, types.SimpleNamespace(finished=True))
    assert done(nb=3) is None and len(calls) == 1  # nothing is saved once the run is over
