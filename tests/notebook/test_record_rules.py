"""Issue 11 without kernels: IPython syntax, strict JSON, input hashing, status of stored
notebooks, lint of raises-exception cells, pipeline `kernel:`/`timeout:` validation."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from mlops_nb import strict_json
from mlops_nb.errors import ConfigError
from mlops_nb.execution import provenance
from mlops_nb.lint.api import lint_notebook
from mlops_nb.notebook.params import parse_parameters_source
from mlops_nb.notebook.status import first_error
from mlops_nb.pipeline import spec
from mlops_nb.pipeline.fingerprint import imported_modules
from mlops_nb.sweep.preload import notebook_imports
from tests import nbbuild as b

# --- IPython syntax ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "defaults", "others"),
    [
        pytest.param(
            'fmt: str = """\n%d items\n!done\n"""  # report template',
            {"fmt": "\n%d items\n!done\n"},
            (),
            id="magic-lookalikes-in-a-string",
        ),
        pytest.param(
            "s = '''\n%%bash\n'''\nn = 2", {"s": "\n%%bash\n", "n": 2}, (), id="cell-magic-text"
        ),
        pytest.param(
            "x = 1\n%matplotlib inline\n!ls", {"x": 1}, ("%matplotlib inline", "!ls"), id="magics"
        ),
        pytest.param("x = 1\nx?", {"x": 1}, ("x?",), id="help"),
    ],
)
def test_parameters_read_ipython_syntax_as_ipython(
    src: str, defaults: dict[str, Any], others: tuple[str, ...]
) -> None:
    specs, non_literal = parse_parameters_source(src)
    assert {s.name: s.default for s in specs} == defaults
    assert non_literal == others


def test_lint_sees_magics_only_where_ipython_does() -> None:
    nb = b.notebook(b.params('fmt = """\n%d items\n!done\n"""'), b.code("y = 1"))
    assert not [f for f in lint_notebook(nb) if f.code == "NB204"]
    nb = b.notebook(b.params("a = 1\n%load_ext autoreload"), b.code("y = 1"))
    (f,) = [f for f in lint_notebook(nb) if f.code == "NB204"]
    assert "%load_ext autoreload" in f.message


def test_module_discovery_reads_ipython_syntax(tmp_path: Path) -> None:
    sources = [
        'doc = """\nimport not_a_real_import\n"""\n%matplotlib inline\nimport json',
        "%%time\nimport csv\n",
        "%timeit import decimal",
        "files = !ls\nfrom fractions import Fraction",
    ]
    found = imported_modules(sources)
    assert {"json", "csv", "decimal", "fractions"} <= found
    assert "not_a_real_import" not in found
    nb = b.notebook(b.params("x = 1"), *[b.code(s) for s in sources])
    assert set(notebook_imports(nb, cwd=tmp_path)) == {"json", "csv", "decimal", "fractions"}


# --- strict JSON ------------------------------------------------------------------------------


def test_strict_json_round_trip() -> None:
    value = {"a": [math.inf, -math.inf, 1.5, "NaN"], "b": {"c": math.nan}, "d": (1, math.inf)}
    text = strict_json.dumps(value)
    assert "Infinity" in text and "NaN" in text
    json.loads(text, parse_constant=lambda t: pytest.fail(t))
    back = strict_json.loads(text)
    assert back["a"][:2] == [math.inf, -math.inf] and back["a"][2:] == [1.5, "NaN"]
    assert math.isnan(back["b"]["c"]) and back["d"] == [1, math.inf]
    plain = {"x": [1, 2.0]}
    assert strict_json.encode(plain) is plain


# --- status of a stored notebook --------------------------------------------------------------


def _pm(exception: bool) -> dict[str, Any]:
    return {"papermill": {"exception": exception}}


def test_first_error_reads_the_papermill_marker_and_stderr() -> None:
    stderr = {"output_type": "stream", "name": "stderr", "text": "UsageError: Line magic `%x`.\n"}
    marked = b.code("%x", outputs=[stderr])
    marked["metadata"] = _pm(True)
    nb = b.notebook(b.code("a = 1"), marked, b.code("b = 2"))
    error = first_error(nb)
    assert error is not None
    assert (error["ename"], error["cell_index"]) == ("UsageError", 1)
    # a raises-exception cell may raise
    err = {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "", "traceback": []}
    nb = b.notebook(b.code("1/0", outputs=[err], tags=["raises-exception"]), b.code("b = 2"))
    assert first_error(nb) is None


def test_lint_does_not_flag_expected_errors() -> None:
    err = {"output_type": "error", "ename": "ValueError", "evalue": "x", "traceback": []}
    nb = b.notebook(
        b.params("a = 1", count=1),
        b.code("raise ValueError('x')", outputs=[err], tags=["raises-exception"], count=2),
        b.code("raise ValueError('x')", outputs=[err], count=3),
    )
    errors = [f.cell for f in lint_notebook(nb) if f.code == "NB103"]
    assert errors == [3]  # cells numbered from 1: the untagged third cell only


# --- input hashing --------------------------------------------------------------------------------


def hashes(params: dict[str, Any], base: Path) -> dict[str, dict[str, Any]]:
    return provenance.input_hashes(params, base_dirs=[base])


def test_folder_with_a_dangling_link_is_hashed_and_the_link_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1\n")
    (data / "latest.csv").symlink_to("deleted.csv")
    first = hashes({"data": "data/"}, tmp_path)["data/"]
    assert first["unreadable"] == {"latest.csv": "broken link -> deleted.csv"}
    assert "latest.csv" in capsys.readouterr().err
    (data / "a.csv").write_text("2\n")
    assert hashes({"data": "data/"}, tmp_path)["data/"]["sha256"] != first["sha256"]
    (data / "latest.csv").unlink()
    (data / "latest.csv").symlink_to("other.csv")  # retargeting a link is a change too
    assert hashes({"data": "data/"}, tmp_path)["data/"]["sha256"] != first["sha256"]


def test_other_unreadable_entries_are_recorded(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "x.csv").write_text("x")
    os.mkfifo(data / "pipe")  # reading it would block forever
    (data / "loop").symlink_to(".")  # a folder link (a loop)
    h = hashes({"d": "data"}, tmp_path)["data"]
    assert h["unreadable"] == {"pipe": "not a regular file (not read)"}
    assert h["files"] == 3 and h["sha256"]
    (tmp_path / "gone").symlink_to("nowhere")
    assert hashes({"p": "gone"}, tmp_path)["gone"]["link"] == "nowhere"


def test_strings_inside_list_and_dict_parameters_are_inputs(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("a")
    (tmp_path / "b.csv").write_text("b")
    got = hashes({"files": ["a.csv", 3], "cfg": {"train": {"path": "b.csv"}, "n": 1}}, tmp_path)
    assert set(got) == {"a.csv", "b.csv"}
    assert got["b.csv"]["param"] == "cfg"


def test_huge_folders_are_not_hashed_explicitly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provenance, "MAX_SCAN_ENTRIES", 10)
    big = tmp_path / "big"
    big.mkdir()
    for i in range(25):
        (big / f"{i}.txt").write_text(str(i))
    h = hashes({"root": "big"}, tmp_path)["big"]
    assert h["sha256"] is None
    assert h["not_hashed"].startswith("too large")
    assert isinstance(h["seconds"], float)
    inputs = {"big": h}
    # identical work cannot be told: two keys never match
    assert provenance.run_key("c", {}, inputs) != provenance.run_key("c", {}, inputs)


# --- pipeline: kernel and timeout -----------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("{notebook: a.ipynb, timeout: .nan}", "'timeout' must be a finite number"),
        ("{notebook: a.ipynb, timeout: .inf}", "'timeout' must be a finite number"),
        ("{notebook: a.ipynb, timeout: abc}", "'timeout' must be a finite number"),
        ("{notebook: a.ipynb, kernel: 3}", "'kernel' must be a Jupyter kernel name"),
    ],
)
def test_pipeline_step_kernel_and_timeout(tmp_path: Path, step: str, message: str) -> None:
    b.write(tmp_path / "a.ipynb", b.params("n: int = 1"), b.code("pass"))
    pf = tmp_path / "p.yaml"
    pf.write_text(f"steps:\n  a: {step}\n")
    with pytest.raises(ConfigError, match=message):
        spec.load(pf)
    pf.write_text("steps:\n  a: {notebook: a.ipynb, kernel: python3, timeout: 30}\n")
    a = spec.load(pf).steps["a"]
    assert (a.kernel, a.timeout) == ("python3", 30.0)


@pytest.mark.parametrize("workers", ["0", "-1", "2.5", "abc", "true", ".nan"])
def test_pipeline_workers_must_be_a_positive_whole_number(tmp_path: Path, workers: str) -> None:
    b.write(tmp_path / "a.ipynb", b.params("n: int = 1"), b.code("pass"))
    pf = tmp_path / "p.yaml"
    pf.write_text(f"workers: {workers}\nsteps:\n  a: {{notebook: a.ipynb}}\n")
    with pytest.raises(ConfigError, match="'workers' must be a whole number >= 1"):
        spec.load(pf)


def test_pipeline_step_without_a_kernel_is_refused_before_anything_runs(tmp_path: Path) -> None:
    nb = b.notebook(b.params("n: int = 1"), b.code("pass"))
    del nb["metadata"]["kernelspec"]
    (tmp_path / "a.ipynb").write_text(json.dumps(nb))
    pf = tmp_path / "p.yaml"
    pf.write_text("steps:\n  a: {notebook: a.ipynb}\n")
    with pytest.raises(ConfigError, match=r"names no kernel.*add `kernel: python3`"):
        spec.load(pf)
    pf.write_text("steps:\n  a: {notebook: a.ipynb, kernel: python3}\n")
    assert spec.load(pf).steps["a"].kernel == "python3"
