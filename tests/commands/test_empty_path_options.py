"""A path given as '' (``--runs-dir ''``, ``-o ''``, ``--grid ''``, a NOTEBOOK '') is refused with one
line, exit 2, before the command does anything: it used to mean the current folder
(``reindex --runs-dir ''`` made an index in it), stdout (``collect -o ''``) or nothing. Every
option of every command whose value names a file or folder is tried."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from mlops_nb.main import PATH_METAVARS, build_parser, main


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _filler(action: argparse.Action) -> list[str]:
    """Values that get ``action`` past argparse (the check runs before the command does)."""
    value = str(next(iter(action.choices))) if action.choices else "x"
    if isinstance(action, argparse._SubParsersAction):
        return []
    if action.nargs in ("?", "*", 0) or (action.option_strings and not action.required):
        return []
    n = action.nargs if isinstance(action.nargs, int) else 1
    return ([action.option_strings[0]] if action.option_strings else []) + [value] * n


def _cases() -> list[tuple[str, list[str], str]]:
    cases = []
    for name, cmd in _subparsers().items():
        groups = [(name, cmd)]
        subs = [a for a in cmd._actions if isinstance(a, argparse._SubParsersAction)]
        for s in subs:  # pipeline run/status/...
            groups = [(f"{name} {k}", p) for k, p in s.choices.items()]
        for label, p in groups:
            for action in p._actions:
                metavars = (
                    action.metavar if isinstance(action.metavar, tuple) else (action.metavar,)
                )
                if not PATH_METAVARS.intersection(m for m in metavars if isinstance(m, str)):
                    continue
                if not action.option_strings and "NOTEBOOK" not in metavars:
                    continue  # positional FILE/DIR/PATH: each command's own message
                rest = [v for a in p._actions if a is not action for v in _filler(a)]
                for group in p._mutually_exclusive_groups:  # sweep: --grid or --list
                    if group.required and action not in group._group_actions:
                        rest += [group._group_actions[0].option_strings[0], "x"]
                n = len(metavars) if isinstance(action.metavar, tuple) else 1
                empty = [""] * n
                given = [action.option_strings[0], *empty] if action.option_strings else empty
                cases.append(
                    (
                        label,
                        [*label.split(), *given, *rest],
                        "/".join(action.option_strings) or "NOTEBOOK",
                    )
                )
    return cases


CASES = _cases()


@pytest.mark.kernel
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_empty_parameter_values_are_values_and_an_empty_parameters_file_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """-p/-r/-y/-f share one list: '' is a value for the first three (papermill takes
    ``-r tag ''``), a path only for -f."""
    from tests import nbbuild as b

    monkeypatch.chdir(tmp_path)
    b.write(tmp_path / "nb.ipynb", b.params("tag = 'x'\nn = 1"), b.code("y = tag"))
    grid = ["--grid", str(tmp_path / "g.yaml")] if command == "sweep" else []
    (tmp_path / "g.yaml").write_text("n: [1]\n", encoding="utf-8")
    ok = main([command, "nb.ipynb", *grid, "-r", "tag", "", "-p", "tag", "", "-y", ""])
    assert ok == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main([command, "nb.ipynb", *grid, "-r", "tag", "a", "-f", ""]) == 2
    assert capsys.readouterr().err == (
        f"mlops-nb {command}: error: -f/--parameters_file '': an empty path names no file or "
        "folder; give one.\n"
    )


def test_the_commands_have_path_options_to_check() -> None:
    shown = {shown for _, _, shown in CASES}
    assert {"--runs-dir", "-o/--output", "--metrics-file", "NOTEBOOK"} <= shown
    assert len(CASES) > 30


@pytest.mark.parametrize(("label", "argv", "shown"), CASES, ids=[f"{c[0]} {c[2]}" for c in CASES])
def test_an_empty_path_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    label: str,
    argv: list[str],
    shown: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"mlops-nb {label.split()[0]}: error: {shown} '': an empty path names no file or folder; give one"
        + (" (. for the current folder).\n" if err.rstrip().endswith("folder).") else ".\n")
    ), err
    assert os.listdir(tmp_path) == []  # nothing written where '' would have pointed
