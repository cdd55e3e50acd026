"""``mlops-nb env export``: write a run's lock file and container recipe."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mlops_nb import environment
from mlops_nb.environment import lock, recipes
from mlops_nb.errors import UsageError

FORMATS = ("requirements", "dockerfile", "repo2docker")


def export(
    run_folder: Path, *, fmt: str, out_dir: str | os.PathLike[str] | None, hashes: bool
) -> dict[str, str]:
    """The files of ``fmt`` (``{name: text}``), written into ``out_dir`` when given.

    ``out_dir`` is a folder (made if missing). For ``requirements`` (one file) it may also be
    ``-`` (standard output) or an existing target that is no folder and cannot become one: a
    named pipe, ``/dev/null``, ``/dev/stdout``, any path under ``/dev`` or ``/proc``, written in
    place through ``notebook.io.write_user_file`` as every other ``-o`` is. ``dockerfile`` and
    ``repo2docker`` always pin with hashes (``--require-hashes`` needs them). Raises
    ``UsageError`` for an unknown format, a run without a recorded environment, a lock that
    cannot be resolved, or an ``out_dir`` that is a regular file (or no folder, for several
    files).
    """
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: unknown; valid: {', '.join(FORMATS)}.")
    if out_dir is not None and os.fspath(out_dir) == "":  # Path("") is "."
        raise UsageError("-o '': an empty path names no folder; give -o DIR (-o . for here).")
    one_file = out_dir is not None and _names_one_file(os.fspath(out_dir), fmt)
    if fmt != "requirements" and (out_dir is None or one_file):
        given = f", not {os.fspath(out_dir)}" if out_dir is not None else ""
        raise UsageError(f"--format {fmt} writes several files: give -o DIR{given}.")
    env = environment.load(run_folder)
    files = {"requirements.txt": lock.requirements(env, hashes=hashes or fmt != "requirements")}
    out = Path(out_dir) if out_dir is not None else None
    project = recipes.project_root(Path.cwd())  # the build context
    if fmt == "dockerfile":
        assert out is not None
        if not out.resolve().is_relative_to(project):
            raise UsageError(
                f"-o {out}: the Dockerfile's folder must be inside the build context, the "
                f"project {project} (run from the project, e.g. -o build/env)."
            )
        lock_path = recipes.rel_posix(out / "requirements.txt", project)
        files["Dockerfile"] = recipes.dockerfile(env, lock_path=lock_path, project=project)
    elif fmt == "repo2docker":
        files.update(recipes.repo2docker(env, project=project))
    if out_dir is not None and one_file:
        from mlops_nb.notebook.io import write_user_file, writing

        with writing(out_dir):
            write_user_file(out_dir, files["requirements.txt"])
    elif out is not None:
        _write(out, files)
    return files


def _names_one_file(target: str, fmt: str) -> bool:
    """``-o`` names one file to write in place (see ``export``), not a folder. A regular file
    is refused: ``-o`` names a folder, and one that does not exist yet is made."""
    if target == "-":
        return True
    try:
        kind = os.stat(target).st_mode
    except OSError:
        return False  # a folder to make (or an error to report when writing into it)
    if stat.S_ISDIR(kind):
        return False
    if stat.S_ISREG(kind) and not os.path.abspath(target).startswith(("/dev/", "/proc/")):
        what = "the lock" if fmt == "requirements" else "the files"
        raise UsageError(
            f"-o {target} is a file: env export -o takes a folder and writes {what} into it "
            f"(to write requirements.txt as {target}: env export RUN > {target})."
        )
    return True


def _write(out: Path, files: dict[str, str]) -> None:
    from mlops_nb.notebook.io import atomic_write_text

    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            atomic_write_text(out / name, text)
        if "postBuild" in files:  # executable wherever it is readable (the umask decided that)
            mode = (out / "postBuild").stat().st_mode
            os.chmod(out / "postBuild", mode | (mode & 0o444) >> 2)
    except OSError as e:
        raise UsageError(f"-o {out}: cannot write there: {e.strerror}.") from None
