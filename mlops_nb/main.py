"""The ``mlops-nb`` command line: parse, dispatch to one command module; ``error_handler`` maps
errors to exit codes.

Each command lives in ``mlops_nb/commands/<name>.py`` with ``add_arguments(parser)`` and
``run(args) -> int``. Command modules import only argparse at module level, so ``--help`` stays fast;
the library behind a command is imported inside its ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence

from mlops_nb import __version__, error_handler, output
from mlops_nb.errors import EXIT_USAGE

# name -> (module, one-line help). Order is the order of `mlops-nb --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("mlops_nb.commands.run", "run one notebook with parameters and record the run"),
    "inspect": (
        "mlops_nb.commands.inspect",
        "show a notebook's parameters (name, type, default, help)",
    ),
    "sweep": (
        "mlops_nb.commands.sweep",
        "run a notebook over a parameter grid or list, in parallel",
    ),
    "collect": ("mlops_nb.commands.collect", "one row per run: parameters and scalar results"),
    "show": ("mlops_nb.commands.show", "show one run's record"),
    "diff": ("mlops_nb.commands.diff", "what differs between two runs"),
    "rerun": ("mlops_nb.commands.rerun", "execute a run's recorded code again; --check compares"),
    "report": ("mlops_nb.commands.report", "self-contained HTML report across runs"),
    "lint": ("mlops_nb.commands.lint", "check notebook hygiene (linear execution, good practice)"),
    "strip": ("mlops_nb.commands.strip", "strip outputs and volatile metadata (nbstripout)"),
    "hook": ("mlops_nb.commands.hook", "pre-commit step: lint as saved, then strip"),
    "new": ("mlops_nb.commands.new", "create a notebook from a template"),
    "init": ("mlops_nb.commands.init", "create a new project skeleton"),
    "pipeline": ("mlops_nb.commands.pipeline", "run or inspect a pipeline of notebooks"),
    "reindex": ("mlops_nb.commands.reindex", "rebuild the runs index from the run folders"),
    "env": (
        "mlops_nb.commands.env",
        "export a run's environment (lock, Dockerfile) or compare two",
    ),
    "registry": ("mlops_nb.commands.registry", "registered models: versions, aliases, history"),
    "promote": ("mlops_nb.commands.promote", "point model aliases at a run"),
    "approve": ("mlops_nb.commands.approve", "apply a pending promotion (human in the loop)"),
    "reject": ("mlops_nb.commands.reject", "discard a pending promotion"),
    "rollback": ("mlops_nb.commands.rollback", "point an alias back at its previous version"),
    "export": (
        "mlops_nb.commands.export",
        "send runs to MLflow, TensorBoard or W&B (idempotently)",
    ),
}

EXIT_BUG = error_handler.EXIT_BUG


def build_parser() -> argparse.ArgumentParser:
    parser = output.ArgumentParser(
        prog="mlops-nb",
        description="Jupyter notebooks as reproducible, production-grade ML work.",
        epilog="Run 'mlops-nb COMMAND --help' for a command's options. "
        "Exit codes: 0 ok, 1 a run failed or findings, 2 bad usage or input, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"mlops-nb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if importlib.util.find_spec(module_name) is None:
            continue  # a command still being built; tests check that none is missing
        module = importlib.import_module(module_name)
        cmd = sub.add_parser(
            name,
            help=help_text,
            description=module.__doc__ or help_text,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(cmd)
        cmd.set_defaults(_module=module_name)
        _note_paths(cmd)
    return parser


def _note_paths(cmd: argparse.ArgumentParser) -> None:
    """Remember ``cmd``'s path arguments (``_empty_path`` checks them), and those of its own
    actions (``pipeline run``, ``env export``, ...)."""
    cmd.set_defaults(_paths=_path_arguments(cmd))
    for action in cmd._actions:
        if isinstance(action, argparse._SubParsersAction):
            for nested in action.choices.values():
                _note_paths(nested)


PATH_METAVARS = frozenset({"FILE", "DIR", "PATH", "NOTEBOOK", "F.json"})


def _path_arguments(cmd: argparse.ArgumentParser) -> tuple[tuple[str, str, str], ...]:
    """``(dest, how the user wrote it, hint)`` of each option of ``cmd`` that names a file or
    folder (by its metavar), and of a NOTEBOOK argument."""
    found = []
    dests = [a.dest for a in cmd._actions]
    for action in cmd._actions:  # argparse's list of a parser's arguments
        if dests.count(action.dest) > 1:
            continue  # -p/-r/-y/-f share one list of (flag, values): '' is a value there
        metavars = action.metavar if isinstance(action.metavar, tuple) else (action.metavar,)
        named = PATH_METAVARS.intersection(m for m in metavars if isinstance(m, str))
        # positional FILE, DIR, PATH: each command says what an empty one would have meant
        if named and (action.option_strings or "NOTEBOOK" in named):
            hint = " (. for the current folder)" if "DIR" in named else ""
            found.append((action.dest, "/".join(action.option_strings) or "NOTEBOOK", hint))
    return tuple(found)


def _empty_path(args: argparse.Namespace) -> str | None:
    """The error for the first path argument given as '' (it would mean the current folder,
    or nothing), or None."""
    for flag, value, _ in getattr(args, "param_flags", None) or ():
        if flag == "-f" and value == "":  # -f FILE among -p/-r/-y values, which may be ''
            return "-f/--parameters_file '': an empty path names no file or folder; give one."
    paths: tuple[tuple[str, str, str], ...] = getattr(args, "_paths", ())
    for dest, shown, hint in paths:
        value = getattr(args, dest, None)
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v == "" or (isinstance(v, (list, tuple)) and "" in v):
                return f"{shown} '': an empty path names no file or folder; give one{hint}."
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mlops-nb``; returns the exit code."""
    from mlops_nb import process_hooks
    from mlops_nb.commands._common import protect_dash_values
    from mlops_nb.startup import skip_optional_imports

    process_hooks.install()
    skip_optional_imports()
    parser = build_parser()
    args = parser.parse_args(protect_dash_values(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "_module", None):  # as argparse does for a required argument
        from mlops_nb import output

        output.err(
            parser.format_usage() + "mlops-nb: error: the following arguments are required: "
            "COMMAND ('mlops-nb --help' lists the commands)"
        )
        return EXIT_USAGE
    empty = _empty_path(args)
    if empty is not None:
        from mlops_nb import output

        output.err(f"mlops-nb {args.command}: error: {empty}")
        return EXIT_USAGE
    if not _cwd_exists():
        from mlops_nb import output

        output.err(
            f"mlops-nb {args.command}: error: the current folder no longer exists (it was "
            "removed or moved); cd to a folder that exists and run the command again"
        )
        return EXIT_USAGE
    return error_handler.handle(
        "mlops-nb", lambda: _dispatch(args._module, args), feature=f"mlops-nb {args.command}"
    )


def _cwd_exists() -> bool:
    """Whether the current folder still exists (relative paths, hints and the default store
    are read against it)."""
    try:
        os.getcwd()
    except FileNotFoundError:
        return False
    return True


def cli() -> None:
    """The ``mlops-nb`` console script: ``main()``, then ``exiting.exit_now`` (no interpreter
    teardown, 0.1-0.3 s of CPU after a command that imported pandas)."""
    from mlops_nb.exiting import exit_now

    exit_now(main())


def _dispatch(module_name: str, args: argparse.Namespace) -> int:
    from mlops_nb.store.naming import command_line  # messages name flags, not keywords

    module = importlib.import_module(module_name)
    with command_line():
        return int(module.run(args))
