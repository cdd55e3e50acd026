"""``Sweep.load`` takes a sweep id or a unique prefix of one, as ``show`` takes run ids and
``collect --sweep`` takes sweeps (an ambiguous prefix is refused with the candidates); its
DataFrame can name columns as ``collect`` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb import Sweep
from mlops_nb.errors import StoreError

GOLDEN = Path(__file__).parent / "data" / "sweep_v0_resumed.json"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Three recorded sweeps: train-aaa111, train-aab222 and eval-ccc333."""
    old = json.loads(GOLDEN.read_text())
    (tmp_path / "sweeps").mkdir()
    for sid in ("train-aaa111", "train-aab222", "eval-ccc333"):
        (tmp_path / "sweeps" / f"{sid}.json").write_text(json.dumps({**old, "id": sid}))
    return tmp_path


@pytest.mark.parametrize(
    ("ref", "sid"),
    [("train-aaa111", "train-aaa111"), ("train-aab", "train-aab222"), ("e", "eval-ccc333")],
)
def test_an_id_or_a_unique_prefix_loads_that_sweep(store: Path, ref: str, sid: str) -> None:
    s = Sweep.load(ref, runs_dir=store)
    assert s.id == sid and s.path == store / "sweeps" / f"{sid}.json"


def test_an_ambiguous_prefix_lists_the_sweeps_it_matches(store: Path) -> None:
    with pytest.raises(StoreError) as e:
        Sweep.load("train-aa", runs_dir=store)
    assert e.value.message == (
        f"'train-aa' matches 2 sweeps in {store / 'sweeps'}: train-aaa111, train-aab222; "
        "give more of the id."
    )


@pytest.mark.parametrize("ref", ["nosuch", "", "../sweeps/train-aaa111", "aaa111"])
def test_no_match_names_the_sweeps_there_are(store: Path, ref: str) -> None:
    with pytest.raises(StoreError) as e:
        Sweep.load(ref, runs_dir=store)
    assert e.value.message == (
        f"no sweep {ref!r} in {store / 'sweeps'} "
        "(its sweeps: eval-ccc333, train-aaa111, train-aab222)."
    )


def test_an_empty_store_says_none_yet(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no sweep 'train' in .* \(none yet\)"):
        Sweep.load("train", runs_dir=tmp_path)


def test_the_dataframe_can_use_collects_column_names(runs_dir: Path) -> None:
    """``param.X``/``scrap.X`` stay the default (existing code reads them); ``collect_names``
    gives ``params.X``/``scraps.X``, the names of ``mlops_nb.collect``, for one vocabulary."""
    import mlops_nb
    from tests.results.factory import make_run

    old = json.loads(GOLDEN.read_text())
    params = old["runs"][0]["params"]
    folder = make_run(runs_dir, params=params, scraps={"f1": 0.5}, sweep_id=old["id"])
    old["runs"][0]["run_id"] = folder.name
    (runs_dir / "sweeps").mkdir()
    (runs_dir / "sweeps" / f"{old['id']}.json").write_text(json.dumps(old))
    s = Sweep.load(old["id"], runs_dir=runs_dir)

    default = s.to_dataframe()
    assert {f"param.{k}" for k in params} | {"scrap.f1"} <= set(default.columns)
    named = s.to_dataframe(collect_names=True)
    assert list(named.columns) == [
        c.replace("param.", "params.").replace("scrap.", "scraps.") for c in default.columns
    ]
    collected = mlops_nb.collect(runs_dir, sweep=old["id"])
    shared = {c for c in named.columns if c.startswith(("params.", "scraps."))}
    assert shared and shared <= set(collected.columns)
    assert named.loc[0, "scraps.f1"] == collected.loc[0, "scraps.f1"] == 0.5
