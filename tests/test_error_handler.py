"""One error handler for every entry point (issue 16): ``mlops-nb`` and the hook scripts map
user errors, interrupts, missing extras and bugs the same way; every error is an MlopsNbError."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_nb import error_handler
from mlops_nb.commands import hook
from mlops_nb.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    ForkServerError,
    KernelError,
    KernelStartFailed,
    MlopsNbError,
    StoreError,
)
from mlops_nb.main import main
from tests import nbbuild as b
from tests.results.factory import make_run

ENTRY_POINTS: dict[str, Callable[[list[str]], int]] = {
    "mlops-nb-lint": hook.lint_main,
    "mlops-nb-strip": hook.strip_main,
    "mlops-nb-hook": hook.hook_main,
    "mlops-nb": lambda argv: main(["lint", *argv]),
}


def _raise(exc: BaseException) -> Callable[..., object]:
    def fail(*args: object, **kwargs: object) -> object:
        raise exc

    return fail


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    return b.write(tmp_path / "x.ipynb", b.params("a = 1"), b.code("print(a)"))


@pytest.mark.parametrize("prog", ENTRY_POINTS)
def test_a_bug_is_logged_with_its_traceback_in_every_entry_point(
    prog: str,
    notebook: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # a bug below the command layer, in every entry point's path
    for where in ("lint.lint_paths", "lint.hook.verify_then_strip", "strip.strip_paths"):
        monkeypatch.setattr(f"mlops_nb.{where}", _raise(ZeroDivisionError("boom")))
    assert ENTRY_POINTS[prog]([str(notebook)]) == error_handler.EXIT_BUG
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: boom" in err and "Traceback" not in err
    assert "ZeroDivisionError: boom" in (tmp_path / "cache/mlops-nb/mlops-nb.log").read_text()


@pytest.mark.parametrize(
    ("exc", "code", "says"),
    [
        (StoreError("no runs here. Pass --runs-dir."), 2, "error: no runs here. Pass --runs-dir."),
        (KeyboardInterrupt(), EXIT_INTERRUPTED, "interrupted"),
        (ModuleNotFoundError("x", name="pandas"), 2, "pip install 'mlops-nb[run]'"),
    ],
    ids=["user-error", "ctrl-c", "missing-extra"],
)
def test_handle_maps_each_kind(
    exc: BaseException, code: int, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert error_handler.handle("mlops-nb-hook", _raise(exc)) == code  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert (says in err) if says else err == ""
    assert "Traceback" not in err
    if says and code:
        assert err.startswith("mlops-nb-hook: ")


def test_the_store_logs_and_the_cli_shows_one_line(
    runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_run(runs_dir)
    assert main(["collect", "--runs-dir", str(runs_dir), "--format", "csv"]) == 0
    err = capsys.readouterr().err
    assert err == (
        f"mlops-nb: runs index missing: rebuilding it from the run folders in {runs_dir}\n"
    )


@pytest.mark.parametrize("cls", [ForkServerError, KernelStartFailed])
def test_kernel_errors_are_in_the_hierarchy_and_pickle(cls: type[KernelError]) -> None:
    e = cls("the fork server is gone")
    assert isinstance(e, MlopsNbError) and e.exit_code == EXIT_FAILED
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is cls and back.message == e.message


def test_old_import_places_still_work() -> None:
    from mlops_nb.kernels import forking, prewarm

    assert forking.ForkServerError is ForkServerError  # type: ignore[attr-defined]
    assert prewarm.KernelStartFailed is KernelStartFailed  # type: ignore[attr-defined]
