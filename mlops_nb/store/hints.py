"""The commands that messages tell the user to run, written so that they can be copied and pasted.

A hint such as "run `mlops-nb pipeline run` again to resume" is wrong when the user chose
another store or pipeline file: pasted as printed, it acts on ``./runs`` (or
``$MLOPS_NB_RUNS_DIR``) and ``notebooks/pipeline.yaml``. So a hint names ``--runs-dir`` whenever
the store differs from the one the command picks by itself, and callers add the pipeline file
(``pipeline.hints``) likewise; the words are quoted for a POSIX shell (``shlex.join``). Quoting
does not keep a word that starts with ``-`` from being read as an option, so a path is written
``./-st`` (``path_word``) and an option's value ``--experiment=-x``.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from mlops_nb.store.place import default_runs_dir


def same_path(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` name the same place (relative paths against the current folder)."""
    return os.path.abspath(a) == os.path.abspath(b)


def path_word(path: str | os.PathLike[str]) -> str:
    """``path`` as a command-line word: ``./-st`` for ``-st``, which a command (argparse, ``ls``)
    would read as an option; other paths as written (absolute ones never start with ``-``)."""
    word = str(Path(path))
    return f"./{word}" if word.startswith("-") else word


def _options_joined(words: list[str]) -> list[str]:
    """``--flag VALUE`` as ``--flag=VALUE`` where VALUE starts with one ``-`` (argparse would take
    it for an option: "expected one argument"). Hints put no short option after a long one."""
    out: list[str] = []
    for word in words:
        value = word.startswith("-") and not word.startswith("--")
        if value and out and out[-1].startswith("--") and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={word}"
        else:
            out.append(word)
    return out


def command(
    *words: str,
    runs_dir: str | os.PathLike[str] | None = None,
    usual: str | os.PathLike[str] | None = None,
) -> str:
    """``mlops-nb WORDS`` plus ``--runs-dir RUNS_DIR`` unless ``runs_dir`` is None or the store
    the command uses without the option (``usual``; default ``$MLOPS_NB_RUNS_DIR`` or ``runs``)."""
    parts = ["mlops-nb", *_options_joined(list(words))]
    if runs_dir is not None and not same_path(runs_dir, usual or default_runs_dir()):
        parts += ["--runs-dir", path_word(runs_dir)]
    return shlex.join(parts)
