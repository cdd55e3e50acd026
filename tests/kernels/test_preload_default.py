"""Sweeps preload by default: scrapbook and the notebook's fork-safe imports are in the template;
``--no-preload`` opts out; fork-unsafe modules are imported by each kernel, after the fork."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mlops_nb.kernels import fork_source
from mlops_nb.kernels.forksafety import FORK_UNSAFE, fork_safe, split_unsafe
from mlops_nb.main import main
from mlops_nb.store import runs as store
from tests import nbbuild as b

# What was in sys.modules before the notebook imported anything: preloaded by the template.
PROBE = (
    b.params("i = 0"),
    b.code(
        "import sys\n"
        "before = {m: m in sys.modules for m in ('colorsys', 'scrapbook', 'distributed')}"
    ),
    b.code(
        "import colorsys\nimport distributed\nimport scrapbook as sb\n[sb.glue(k, v) for k, v in before.items()]"
    ),
)


@pytest.mark.parametrize(
    ("module", "safe"),
    [
        ("pandas", True),
        ("sklearn.linear_model", True),
        ("torch", False),
        ("torch.nn.functional", False),
        ("tensorflow", False),
        ("distributed", False),
        ("dask.distributed", False),
        ("dask", True),
        ("polars", False),
        ("torchmetrics", True),  # a prefix of a name is not the name
    ],
)
def test_fork_safety_rules(module: str, safe: bool) -> None:
    assert fork_safe(module) is safe


def test_the_template_never_imports_fork_unsafe_modules(tmp_path: Path) -> None:
    asked = ("numpy", "torch.nn", "colorsys", "grpc", "polars")
    assert fork_source.template_modules(asked, None) == ("numpy", "colorsys")
    assert fork_source.template_modules(asked, tmp_path) == ("numpy", "colorsys")
    assert split_unsafe(asked) == (("numpy", "colorsys"), ("torch.nn", "grpc", "polars"))
    assert all(name.isidentifier() for name in FORK_UNSAFE)


def preloaded(runs_dir: Path) -> list[dict[str, object]]:
    recs = list(store.iter_records(runs_dir))
    assert recs and all(r["status"] == "ok" for r in recs), [r.get("error") for r in recs]
    names = ("colorsys", "scrapbook", "distributed")
    return [{k: r["scraps"][k] for k in names} for r in recs]


@pytest.mark.kernel
@pytest.mark.parametrize(
    ("flags", "colorsys"),
    [([], True), (["--preload", "auto"], True), (["--no-preload"], False)],
    ids=["default", "explicit-auto", "no-preload"],
)
def test_cli_preloads_by_default_and_opts_out(
    no_kernels_left: Path, runs_dir: Path, flags: list[str], colorsys: bool
) -> None:
    nb = b.write(no_kernels_left / "probe.ipynb", *PROBE)
    grid = no_kernels_left / "grid.yaml"
    grid.write_text("i: [1, 2]\n")
    argv = ["sweep", str(nb), "--grid", str(grid), "--workers", "2", "--quiet"]
    assert main([*argv, "--runs-dir", str(runs_dir), *flags]) == 0
    for before in preloaded(runs_dir):
        # scrapbook is in every template, the fork-unsafe module never is
        assert before == {"colorsys": colorsys, "scrapbook": True, "distributed": False}


def test_an_explicit_fork_unsafe_preload_warns_and_each_kernel_imports_it(
    no_kernels_left: Path, runs_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from mlops_nb.sweep.preload import _WARNED, preload_modules

    _WARNED.clear()
    nb = b.notebook(*PROBE)
    with caplog.at_level(logging.WARNING):
        assert preload_modules("distributed,colorsys", nb, check=True) == (
            "distributed",
            "colorsys",
        )
    assert "--preload distributed: not fork-safe" in caplog.text
    assert "colorsys" not in caplog.text
