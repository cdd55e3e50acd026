"""Model names differing only in case (review5 item 14): `MM` next to `mm` would be one file on a
case-insensitive filesystem (macOS, Windows). Names stay case-sensitive and must be unique
regardless of case: every command naming the other spelling is refused, naming the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.main import main
from mlops_nb.registry import api

pytestmark = [pytest.mark.kernel]

Store = tuple[Path, dict[str, str]]


@pytest.mark.parametrize(
    "argv",
    [
        ["promote", "MM", "{b}", "--alias", "live"],
        ["promote", "Mm", "{b}", "--alias", "live", "--require-approval"],
        ["promote", "MM", "@live", "--alias", "blue"],
        ["promote", "MM", "v1", "--alias", "blue"],
        ["approve", "MM"],
        ["reject", "MM", "--alias", "live"],
        ["rollback", "MM", "--alias", "live"],
        ["registry", "show", "MM"],
    ],
    ids=lambda v: " ".join(v[:2]) + ("-approval" if "--require-approval" in v else ""),
)
def test_a_name_differing_only_in_case_is_refused(
    store: Store, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    runs, ids = store
    api.promote(runs, "mm", ids["a"], ["live"])
    before = sorted(p.name for p in (runs / "registry").iterdir())
    code = main([*[a.format(**ids) for a in argv], "--runs-dir", str(runs)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    name = argv[1] if argv[0] != "registry" else argv[2]
    assert err == (
        f"mlops-nb: error: no model {name!r}, but model 'mm' is registered: model names that "
        "differ only in case are refused (one file on case-insensitive filesystems); use 'mm'.\n"
    )
    assert sorted(p.name for p in (runs / "registry").iterdir()) == before


def test_the_registered_spelling_and_other_names_still_work(store: Store) -> None:
    runs, ids = store
    api.promote(runs, "mm", ids["a"], ["live"])
    api.promote(runs, "mm", ids["b"], ["live"])
    api.promote(runs, "MM2", ids["b"], ["live"])  # another name, not just another case
    assert api.resolve(runs, "mm", "live").version == 2
    assert sorted(d["name"] for d in api.all_models(runs)) == ["MM2", "mm"]
    with pytest.raises(StoreError, match="but model 'MM2' is registered"):
        api.resolve(runs, "mm2", "live")  # registry:mm2@live, as a parameter value
