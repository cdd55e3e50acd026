"""The commands the registry's messages suggest work when pasted as printed: they name the store
(``--runs-dir``) when it is not the default one."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from mlops_nb.main import main
from mlops_nb.registry import api

pytestmark = [pytest.mark.kernel]

Store = tuple[Path, dict[str, str]]


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    got = capsys.readouterr()
    return code, got.out, got.err


def _pasted(capsys: pytest.CaptureFixture[str], command: str) -> tuple[int, str, str]:
    words = shlex.split(command)
    assert words[0] == "mlops-nb"
    return _main(capsys, *words[1:])


def test_approve_as_printed_by_promote_and_registry_show(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    code, out, _ = _main(
        capsys,
        "promote",
        "m",
        ids["a"],
        "--alias",
        "live",
        "--require-approval",
        "--runs-dir",
        str(runs),
    )
    assert code == 0
    approve = re.search(r"approve with `([^`]+)`, or `([^`]+)`", out)
    assert approve and approve[1] == shlex.join(
        ["mlops-nb", "approve", "m", "--runs-dir", str(runs)]
    )
    assert approve[2] == shlex.join(["mlops-nb", "reject", "m", "--runs-dir", str(runs)])
    shown = _main(capsys, "registry", "show", "m", "--runs-dir", str(runs))[1]
    assert f"-> `{approve[1]}` or `{approve[2]}`" in shown
    assert _pasted(capsys, approve[1])[0] == 0
    assert api.load(runs, "m")["aliases"] == {"live": 1}


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["registry", "show", "nope"], "mlops-nb promote nope RUN --alias ALIAS"),
        (["rollback", "m", "--alias", "live"], "mlops-nb promote m RUN --alias live"),
        (["rollback", "m", "--alias", "ghost"], "mlops-nb promote m RUN --alias ghost"),
        (["show", "no-such-run"], "mlops-nb collect"),
        (["diff", "no-such-run", "latest"], "mlops-nb collect"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_hints_in_errors_name_the_store(
    argv: list[str], hint: str, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    runs, ids = store
    api.promote(runs, "m", ids["a"], ["live"])
    code, _, err = _main(capsys, *argv, "--runs-dir", str(runs))
    assert code == 2
    assert f"`{hint} --runs-dir {runs}`" in err, err
