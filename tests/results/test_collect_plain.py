"""`collect --format csv` without pandas writes exactly what the pandas path writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_nb import collect
from mlops_nb.main import main
from mlops_nb.results.formats import export
from mlops_nb.results.plain import collect_text
from mlops_nb.store import index
from mlops_nb.store import runs as store
from tests.results.factory import make_run

VARIED: list[dict[str, Any]] = [
    {"params": {"C": 1, "model": "rf", "flag": True}, "scraps": {"f1": 0.1, "big": 2**70}},
    {"params": {"C": 0.5, "model": 'say "hi", ok', "flag": False}, "scraps": {"f1": 1e16}},
    {"params": {"C": 2, "model": "line\nbreak"}, "scraps": {"f1": 1e-7, "mixed": "a"}},
    {"params": {"model": "é ü"}, "scraps": {"mixed": 3, "nested": {"a": [1, 2]}}},
    {"params": {"C": 3.25, "n": 2**63 - 1}, "scraps": {"f1": 123456789.123456789}},
    {"params": {}, "scraps": {"mixed": True, "f1": None}, "status": "failed"},
]


@pytest.fixture
def store_dir(runs_dir: Path) -> Path:
    for i, kw in enumerate(VARIED):
        make_run(runs_dir, sweep_id=f"sw-{i % 2}", name="lbl" if i == 2 else None, **kw)
    return runs_dir


def restamp(runs_dir: Path, stamps: list[str | None]) -> None:
    for folder, stamp in zip(sorted(store.iter_run_folders(runs_dir)), stamps, strict=False):
        rec = store.read_record(folder)
        store.write_record(folder, {**rec, "started_at": stamp}, final=True)
    index.rebuild(runs_dir)


FILTERS: list[dict[str, Any]] = [
    {},
    {"status": "ok"},
    {"sweep": "sw-1", "desc": True},
    {"limit": 2, "desc": True},
    {"columns": ["id", "scraps.f1", "params.model"]},
    {"notebook": "train.ipynb", "status": "lost"},  # no run (an unknown name: exit 2)
]


@pytest.mark.parametrize(
    "stamps",
    [
        [],  # whole minutes: no fraction
        ["2026-01-01T00:00:00.500000Z", None],  # milliseconds for the column; a missing one
        ["2026-01-01T00:00:00.000007Z", "2026-01-02T03:04:05Z"],  # microseconds
    ],
    ids=["seconds", "millis", "micros"],
)
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "all")
def test_plain_csv_is_byte_for_byte_the_pandas_csv(
    store_dir: Path, stamps: list[str | None], filters: dict[str, Any]
) -> None:
    if stamps:
        restamp(store_dir, stamps)
    fast = collect_text(store_dir, "csv", filters)
    assert fast is not None
    if stamps and not filters:  # the column's precision: the finest any value needs
        assert stamps[0] is not None
        assert (".500+00:00" if stamps[0].endswith(".500000Z") else ".000007+00:00") in fast[0]
    expected = export(collect(store_dir, **filters), "csv")
    assert fast[0] == expected
    assert fast[1] == len(collect(store_dir, **filters))


@pytest.mark.parametrize(
    "options",
    [
        {"where": "f1 > 0"},
        {"sort": "f1"},
        {"columns": ["f1"]},  # an alias: pandas' resolver
        {"fmt": "json"},
    ],
    ids=["where", "sort", "alias", "json"],
)
def test_options_that_need_pandas_are_left_to_it(store_dir: Path, options: dict[str, Any]) -> None:
    fmt = options.pop("fmt", "csv")
    assert collect_text(store_dir, fmt, options) is None


def test_an_offset_timestamp_is_left_to_pandas(store_dir: Path) -> None:
    restamp(store_dir, ["2026-01-01T01:00:00+01:00"])
    assert collect_text(store_dir, "csv", {}) is None


def test_cli_csv_does_not_import_pandas(store_dir: Path, tmp_path: Path) -> None:
    probe = (
        "import sys\nfrom mlops_nb.main import main\n"
        "code = main(['collect', '--format', 'csv', '--runs-dir', sys.argv[1]])\n"
        "sys.stderr.write(str('pandas' in sys.modules))\nsys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(store_dir)], capture_output=True, text=True, check=True
    )
    assert done.stderr.endswith("False")
    assert done.stdout == export(collect(store_dir), "csv")


def test_cli_csv_to_a_file(
    store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "runs.csv"
    assert main(["collect", "--format", "csv", "--runs-dir", str(store_dir), "-o", str(out)]) == 0
    assert out.read_text() == export(collect(store_dir), "csv")
    assert f"{len(VARIED)} runs written to {out}" in capsys.readouterr().err
