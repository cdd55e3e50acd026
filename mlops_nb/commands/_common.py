"""Argument helpers shared by commands (argparse only: imported by ``--help``)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

# A VALUE after `-p NAME` / `-r NAME` that starts with '-' (`-1e-3`, `-inf`, `-abc`) is marked
# with this prefix before argparse sees it (argparse would take it for an option), and unmarked
# by the flag's action. papermill's click parser accepts such values.
_DASH_MARK = "\x00"
_TWO_VALUE_FLAGS = frozenset({"-p", "--parameters", "-r", "--parameters_raw"})


def protect_dash_values(argv: Sequence[str]) -> list[str]:
    """``argv`` with each ``-p/-r NAME VALUE`` VALUE that starts with '-' marked as a value."""
    out = list(argv)
    i = 0
    while i < len(out):
        if out[i] == "--":
            break
        if out[i] in _TWO_VALUE_FLAGS and i + 2 < len(out) and out[i + 2].startswith("-"):
            out[i + 2] = _DASH_MARK + out[i + 2]
            i += 3
            continue
        i += 3 if out[i] in _TWO_VALUE_FLAGS else 1
    return out


# papermill's parameter flags: (short, long, metavar, help); a pair of metavars takes NAME VALUE
_PARAM_FLAGS: tuple[tuple[str, str, str | tuple[str, str], str], ...] = (
    (
        "-p",
        "--parameters",
        ("NAME", "VALUE"),
        "a parameter; VALUE parsed (numbers, True/False/None), read with the parameter's declared "
        "type",
    ),
    ("-r", "--parameters_raw", ("NAME", "VALUE"), "a parameter given as a raw string"),
    ("-y", "--parameters_yaml", "YAML", "parameters as a YAML mapping"),
    ("-f", "--parameters_file", "FILE", "parameters from a YAML file"),
)
_SHORT = {long: short for short, long, _, _ in _PARAM_FLAGS}


class _ParamFlag(argparse.Action):
    """Collect ``-p/-r/-y/-f`` in the order given, like papermill."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        flags = list(getattr(namespace, "param_flags", None) or [])
        vals = [values] if isinstance(values, str) else list(values or [])
        flag = _SHORT.get(option_string or "", option_string or "")
        vals = [v.removeprefix(_DASH_MARK) if isinstance(v, str) else v for v in vals]
        flags.append((flag, vals[0], vals[1] if len(vals) > 1 else None))
        namespace.param_flags = flags


def add_param_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("parameters (as in papermill)")
    for short, long, metavar, help_text in _PARAM_FLAGS:
        g.add_argument(
            short,
            long,
            nargs=2 if isinstance(metavar, tuple) else None,
            metavar=metavar,
            action=_ParamFlag,
            dest="param_flags",
            help=help_text,
        )
    parser.set_defaults(param_flags=[])


def add_kernel(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-k",
        "--kernel",
        metavar="NAME",
        dest="kernel_name",
        help="the Jupyter kernel to run with (default: the notebook's metadata.kernelspec), "
        "as papermill's -k",
    )


def add_runs_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-dir",
        metavar="DIR",
        default=None,
        help="the runs store (default: $MLOPS_NB_RUNS_DIR or ./runs)",
    )


def positive_float(text: str) -> float:
    """A finite number > 0 (``nan`` and ``inf`` are refused: leave the option out for no limit)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(
            f"must be a finite number, got {text} (leave the option out for no limit)"
        )
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value
