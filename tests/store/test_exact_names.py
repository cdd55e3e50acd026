"""Run names are matched exactly and win over id prefixes (review7 M8, L1): a name of digits or
hex letters (``2026``, ``0``, ``cafe``) stays reachable however many runs there are; a name in any
script (``ü``, ``日本``) is a name; ``a b`` is not the run named ``a/b``. The index lookup and the
folder lookup agree; names still cannot escape the runs folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.main import main
from mlops_nb.store import index, lookup
from mlops_nb.store import runs as store
from tests import nbbuild as b
from tests.results.factory import make_run

RESOLVERS = (lookup.resolve_run, store.resolve_run)


@pytest.mark.parametrize("name", ["2026", "0", "1", "cafe", "eda", "20260101T00", "f"])
def test_a_name_of_digits_or_hex_stays_reachable(runs_dir: Path, name: str) -> None:
    lookup.check_name(name)
    others = [make_run(runs_dir) for _ in range(20)]  # ids 2026..., random parts of any hex
    named = make_run(runs_dir, name=name)
    others += [make_run(runs_dir) for _ in range(20)]
    index.rebuild(runs_dir)
    for resolve in RESOLVERS:
        assert resolve(runs_dir, name) == named
        assert resolve(runs_dir, others[3].name[:22]) == others[3]  # ids still work


@pytest.mark.parametrize("name", ["ü", "日本", "naïve run", "Ωmega/2", "../../ü"])
def test_names_in_any_script_are_names(runs_dir: Path, name: str) -> None:
    lookup.check_name(name)
    named = make_run(runs_dir, name=name)
    make_run(runs_dir, name="plain")
    make_run(runs_dir)
    assert named.parent == runs_dir and store.is_run_id(named.name)
    for resolve in RESOLVERS:
        assert resolve(runs_dir, name) == named


def test_names_are_matched_exactly_not_by_their_slug(
    runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slash = make_run(runs_dir, name="a/b")
    index.rebuild(runs_dir)
    for resolve in RESOLVERS:
        for ref in ("a b", "a-b", "a!b"):
            with pytest.raises(StoreError, match="no run"):
                resolve(runs_dir, ref)
        assert resolve(runs_dir, "a/b") == slash
    space = make_run(runs_dir, name="a b")
    for resolve in RESOLVERS:
        assert resolve(runs_dir, "a b") == space
        assert resolve(runs_dir, "a/b") == slash
    assert main(["show", "a b", "--runs-dir", str(runs_dir)]) == 0
    assert space.name in capsys.readouterr().out
    assert main(["show", "A b", "--runs-dir", str(runs_dir)]) == 2
    assert "no run 'A b'" in capsys.readouterr().err


def test_a_real_run_named_in_another_script_is_shown_by_its_name(
    runs_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nb = b.write(tmp_path / "nb.ipynb", b.params("x = 1"), b.code("y = x"))
    assert main(["run", str(nb), "--name", "日本", "--runs-dir", str(runs_dir)]) == 0
    capsys.readouterr()
    assert main(["show", "日本", "--json", "--runs-dir", str(runs_dir)]) == 0
    assert '"name": "日本"' in capsys.readouterr().out
