"""The one error hierarchy of mlops-nb.

Every user-facing failure is an ``MlopsNbError`` whose message says what went wrong, where, and
how to fix it. The CLI maps it to a one-line message and its ``exit_code``; anything else is a bug
and gets a traceback saved to a log file. Errors cross process pools and dask, so each one pickles
(``__reduce__`` rebuilds it from its message).
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class MlopsNbError(Exception):
    """Base class of every error meant for the user."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,))

    def __str__(self) -> str:
        return self.message


class UsageError(MlopsNbError):
    """Bad command-line usage or an invalid option value."""


class NotebookError(MlopsNbError):
    """A notebook file is missing, unreadable or malformed."""


class ParameterError(MlopsNbError):
    """Parameters that do not fit the notebook's parameters cell."""


class ConfigError(MlopsNbError):
    """Broken YAML, grid, list or pipeline files."""


class StoreError(MlopsNbError):
    """The runs store cannot be read or written (read-only, full, unknown run)."""


class MissingExtraError(MlopsNbError):
    """An optional dependency is not installed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def missing_extra(module: str, extra: str, feature: str) -> MissingExtraError:
    """The error for an optional import that failed, with the pip command that fixes it."""
    return MissingExtraError(
        f"{feature} needs the Python package {module!r}, which is not installed.\n"
        f"  fix: pip install 'mlops-nb[{extra}]'"
    )


# Top-level modules of the extras (pyproject.toml), for the one message a missing one gets.
EXTRA_OF_MODULE = {
    **dict.fromkeys(
        (
            "papermill",
            "scrapbook",
            "six",
            "nbclient",
            "jupyter_client",
            "ipykernel",
            "pandas",
            "numpy",
            "yaml",
            "tqdm",
            "psutil",
        ),
        "run",
    ),
    **dict.fromkeys(("sklearn", "scipy", "seaborn", "matplotlib", "pyarrow"), "ml"),
    **dict.fromkeys(("dask", "distributed"), "dask"),
}


def extra_error(error: ModuleNotFoundError, feature: str) -> MissingExtraError | None:
    """The ``missing_extra`` error for an import of a module one of our extras provides, else None.

    ``pip install mlops-nb`` is the light hygiene core; the modules behind running notebooks are
    the ``[run]`` extra, so a command that needs them fails with the pip command that fixes it.
    """
    top = (error.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    return None if extra is None else missing_extra(top, extra, feature)


class KernelError(MlopsNbError):
    """A kernel could not be started, reached or kept (fork server, pre-warmed kernel).

    Inside a sweep this is a kernel failure worth a retry (``sweep.worker.kernel_failure``);
    the run that meets it is recorded ``failed`` with this error's name.
    """

    exit_code = EXIT_FAILED


class ForkServerError(KernelError):
    """The fork server could not be started or reached, or refused a request."""


class KernelStartFailed(KernelError):
    """A kernel could not be started (or died while waiting to be used)."""


class RunInterrupted(MlopsNbError):
    """The user interrupted the work (Ctrl-C or SIGTERM)."""

    exit_code = EXIT_INTERRUPTED
