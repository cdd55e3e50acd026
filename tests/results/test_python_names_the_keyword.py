"""Errors of the Python API name its keyword (``where='f1 >'``), the CLI's its flag (``--where``)
(review4 item 14); and a blank filter is no filter in Python, as an empty one is."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mlops_nb.errors import UsageError
from mlops_nb.main import main
from mlops_nb.results.collect import collect
from mlops_nb.results.filter import RunFilter
from mlops_nb.store.naming import command_line, option
from tests.results.factory import make_run


@pytest.fixture
def store(runs_dir: Path) -> Path:
    make_run(runs_dir, params={"x": 1}, scraps={"f1": 0.5, "model": "rf"})
    make_run(runs_dir, params={"x": 2}, scraps={"f1": 0.9, "model": "lr"}, status="failed")
    collect(runs_dir)  # the index is built: no notice on stderr
    return runs_dir


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("f1 >", "where='f1 >': not a valid filter expression"),
        ("__import__('os')", "where=\"__import__('os')\": a function call is not allowed"),
        ("model > 3", "where='model > 3': cannot compare the text column 'scraps.model'"),
        ("f1 + 1", "where='f1 + 1' is not a condition"),
        ("1 > 0 and " * 200 + "True", "where='1 > 0 and 1 > 0 and ...': the filter is longer"),
    ],
    ids=["syntax", "refused", "type", "not-a-condition", "too-long"],
)
def test_python_names_the_keyword_and_the_cli_the_flag(
    store: Path, where: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UsageError) as e:
        collect(store, where=where)
    assert e.value.message.startswith(message) and "--where" not in e.value.message
    assert main(["collect", "--runs-dir", str(store), "--where", where]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mlops-nb: error: --where {message[len('where=') :]}"), err
    with pytest.raises(UsageError, match=r"^where="):  # main's words end with the command
        collect(store, where=where)


@pytest.mark.parametrize("field", ["where", "sweep", "notebook", "pipeline", "status"])
@pytest.mark.parametrize("blank", ["", " ", " \t"])
def test_a_blank_filter_is_no_filter_in_python(store: Path, field: str, blank: str) -> None:
    assert RunFilter(**{field: blank}) == RunFilter()
    assert len(collect(store, **{field: blank})) == 2  # type: ignore[arg-type]


def test_other_python_filter_errors_name_keywords() -> None:
    with pytest.raises(UsageError, match=r"^status=\['ok', ''\] names an empty status"):
        RunFilter(status=["ok", ""])
    with pytest.raises(UsageError, match=r"^unknown status done; choose from"):
        RunFilter(status="done")


def test_a_thread_a_command_starts_names_keywords() -> None:
    seen: list[str] = []
    with command_line():
        seen.append(option("where", "x"))
        worker = threading.Thread(target=lambda: seen.append(option("where", "x")))
        worker.start()
        worker.join()
    seen.append(option("runs_dir", "r"))
    assert seen == ["--where 'x'", "where='x'", "runs_dir='r'"]
