"""The dask executor on a real LocalCluster (2 worker processes, 1 thread each)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.store import runs as store
from mlops_nb.sweep.api import sweep
from tests import nbbuild as b

pytestmark = [pytest.mark.dask, pytest.mark.kernel, pytest.mark.slow]
pytest.importorskip("distributed")


def test_dask_local_cluster_runs_every_set(no_kernels_left: Path, runs_dir: Path) -> None:
    nb = b.write(
        no_kernels_left / "nb.ipynb",
        b.params("x = 1"),
        b.code("import os\nprint(x * 2, os.getpid())"),
    )
    result = sweep(nb, {"x": [1, 2, 3]}, executor="dask", workers=2, runs_dir=runs_dir)
    assert result.ok, result.entries
    assert result.record["executor"] == "dask"
    recs = list(store.iter_records(runs_dir))
    assert sorted(r["params"]["x"] for r in recs) == [1, 2, 3]
    assert {r["sweep_id"] for r in recs} == {result.id}
    assert all(Path(r["notebook"]["path"]).is_absolute() for r in recs)
