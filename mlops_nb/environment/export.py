"""``mlops-nb env export``: write a run's lock file and container recipe."""

from __future__ import annotations

import os
from pathlib import Path

from mlops_nb import environment
from mlops_nb.environment import lock, recipes
from mlops_nb.errors import UsageError

FORMATS = ("requirements", "dockerfile", "repo2docker")


def export(
    run_folder: Path, *, fmt: str, out_dir: str | os.PathLike[str] | None, hashes: bool
) -> dict[str, str]:
    """The files of ``fmt`` (``{name: text}``), written into ``out_dir`` when given.

    ``dockerfile`` and ``repo2docker`` always pin with hashes (``--require-hashes`` needs
    them). Raises ``UsageError`` for an unknown format, a run without a recorded environment,
    or a lock that cannot be resolved.
    """
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: unknown; valid: {', '.join(FORMATS)}.")
    if fmt != "requirements" and out_dir is None:
        raise UsageError(f"--format {fmt} writes several files: give -o DIR.")
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
    if out is not None:
        _write(out, files)
    return files


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
