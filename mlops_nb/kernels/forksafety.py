"""Which modules may be imported into the fork server's template (``--preload``, the default).

A module imported by the template lives in every kernel forked from it. ``fork()`` copies only
the calling thread: a library that, at import, starts threads, opens a GPU/driver context or a
connection to a runtime holds state that a forked child cannot use, and the child may deadlock
on a lock one of those threads held. The rules (README, "Fork safety"):

1. The template imports what every kernel imports (ipykernel, IPython, tornado) and what every
   notebook of this product imports to record its results (``scrapbook``).
2. ``--preload auto`` (the default) adds the notebook's own top-level imports, except
   - modules of the notebook's own folder (each run imports those itself, so import-time state
     such as a module-level random generator or cache is never shared between runs), and
   - the modules in ``FORK_UNSAFE`` below, which each kernel imports itself, after the fork.
3. An explicit ``--preload NAME`` of a fork-unsafe module is not put in the template either (a
   warning says so); ``--no-fork`` pre-starts whole kernels instead and preloads anything.
4. ``--no-preload`` keeps the template to rule 1.

Sources for the list: PyTorch "Multiprocessing best practices" (CUDA cannot be re-initialised in
a forked subprocess); TensorFlow/JAX (runtime thread pools started at import; JAX warns
"os.fork() is incompatible with multithreaded code"); gRPC "fork support" (off unless
``GRPC_ENABLE_FORK_SUPPORT``); Polars "multiprocessing" user guide (fork can deadlock its thread
pool); Ray, PySpark, mpi4py, dask.distributed (processes/event loops started by the library);
GUI toolkits (a display connection cannot be shared by two processes).
"""

from __future__ import annotations

from collections.abc import Iterable

# Top-level package names.
FORK_UNSAFE = frozenset(
    {
        "torch",
        "torchvision",
        "torchaudio",
        "lightning",
        "pytorch_lightning",
        "tensorflow",
        "keras",
        "jax",
        "jaxlib",
        "flax",
        "cupy",
        "pycuda",
        "numba",
        "grpc",
        "polars",
        "ray",
        "pyspark",
        "mpi4py",
        "distributed",
        "tkinter",
        "PyQt5",
        "PyQt6",
        "PySide2",
        "PySide6",
        "wx",
    }
)


def fork_safe(module: str) -> bool:
    """Whether ``module`` (dotted name) may be imported into a template that kernels fork from."""
    top = module.split(".")[0]
    return top not in FORK_UNSAFE and module not in ("dask.distributed",)


def split_unsafe(modules: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(fork-safe modules, fork-unsafe modules)``, each in the given order."""
    names = tuple(modules)
    return tuple(m for m in names if fork_safe(m)), tuple(m for m in names if not fork_safe(m))
