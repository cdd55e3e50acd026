"""An empty filter value (``--sweep ''``, ``--status ok,``, ``--where ''``) is refused with one line
and exit 2 by every command that takes the filters, instead of silently selecting every run
(``--sweep "$ID"`` with ``ID`` unset is a mistake)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb import RunFilter
from mlops_nb.errors import UsageError
from mlops_nb.main import main
from tests.results.factory import make_run

EMPTY = [
    ("--notebook", "", "names nothing; give a notebook's path or file name"),
    ("--sweep", "", "names nothing; give a sweep id or a prefix of one"),
    ("--pipeline", "", "names nothing; give a pipeline's name"),
    ("--status", "", "names nothing; give statuses separated by commas (running, ok,"),
    ("--status", "ok,", "names an empty status; give statuses separated by commas"),
    ("--status", ", ", "names nothing"),
    ("--status", "ok,,failed", "names an empty status"),
    ("--where", "", 'names nothing; give a filter expression (e.g. "f1 > 0.8")'),
    ("--where", "  ", "names nothing"),
]


@pytest.fixture
def store(runs_dir: Path) -> Path:
    make_run(runs_dir, params={"C": 1}, scraps={"f1": 0.9}, sweep_id="sw-aaa")
    return runs_dir


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], says: str) -> None:
    assert main(argv) == 2
    got = capsys.readouterr()
    assert got.out == ""
    assert got.err.count("\n") == 1 and says in got.err, got.err
    assert "every run" in got.err


@pytest.mark.parametrize(("flag", "value", "says"), EMPTY, ids=lambda v: repr(v)[:20])
def test_collect_refuses_an_empty_filter(
    store: Path, flag: str, value: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["collect", "--runs-dir", str(store), flag, value]
    _refused(capsys, argv, f"{flag} {value!r} {says}")


@pytest.mark.parametrize(
    ("command", "flag", "value"),
    [
        (["export", "mlflow", "--dry-run"], "--sweep", ""),
        (["export", "tensorboard", "--dry-run"], "--status", "ok,"),
        (["report", "-o", "r.html"], "--where", ""),
        (["report", "-o", "r.html"], "--pipeline", ""),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else repr(v),
)
def test_export_and_report_refuse_empty_filters_the_same_way(
    store: Path,
    command: list[str],
    flag: str,
    value: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    _refused(capsys, [*command, "--runs-dir", str(store), flag, value], f"{flag} {value!r}")
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(("flag", "value"), [("--sort", ""), ("--columns", ""), ("--sort", " ")])
def test_collect_refuses_an_empty_column(
    store: Path, flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["collect", "--runs-dir", str(store), flag, value]) == 2
    err = capsys.readouterr().err
    assert f"{flag} {value!r} names no column; give one" in err and err.count("\n") == 1


def test_the_filters_still_work_when_given_values(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["collect", "--runs-dir", str(store), "--status", " ok , failed", "--sweep", "sw-a"]
    assert main([*argv, "--columns", "id", "f1"]) == 0
    assert "0.9" in capsys.readouterr().out


def test_the_api_refuses_a_blank_status_in_a_list() -> None:
    """In Python, an empty value is no filter (as MLflow's ``filter_string=""``), but a list of
    statuses with a blank one in it is a mistake."""
    for status in ("ok,", ["ok", " "], ","):
        with pytest.raises(UsageError, match=r"status=.* names (an empty status|nothing); give"):
            RunFilter(status=status)
    assert RunFilter(status="", sweep="", where="") == RunFilter()
