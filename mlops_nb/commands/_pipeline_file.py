"""The pipeline file a `pipeline` action reads (argparse only at module level)."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops_nb.pipeline.spec import Pipeline

ALL = "*"  # the value of a bare --force: every step


def load_pipeline(file: str | None) -> Pipeline:
    """``spec.load`` of FILE; for a folder FILE, its pipeline.yaml, which stderr names.
    ``ConfigError`` for an empty FILE."""
    from pathlib import Path

    from mlops_nb import output
    from mlops_nb.errors import ConfigError
    from mlops_nb.pipeline import spec

    if file == "":  # Path("") is ".": its pipeline.yaml, not what the user meant
        raise ConfigError(
            f"an empty FILE ('') names no pipeline file; give its path, or leave FILE out for "
            f"{spec.DEFAULT_FILE}."
        )
    path = spec.locate(file)
    if file is not None and path != Path(file):
        output.notice(f"{file} is a folder: using {path}")
    return spec.load(path)


def file_and_force(
    file: str | None, force: Sequence[str] | None
) -> tuple[str | None, list[str] | None]:
    """``pipeline run``'s FILE and ``--force`` values, as the user meant them.

    ``--force [STEP]`` takes an optional value, so argparse hands it the word that follows:
    ``pipeline run --force pipeline.yaml`` parses as the step ``pipeline.yaml`` and no FILE.
    Without a FILE, the last ``--force`` value that names an existing path or ends in
    ``.yaml``/``.yml`` is the FILE (and that ``--force`` a bare one: every step), unless the
    default pipeline has a step of that name. ``--force STEP`` and ``--force STEP FILE`` keep
    their meaning.
    """
    values = list(force) if force else None
    if file is not None or not values:
        return file, values
    steps: Collection[str] | None = None  # the default pipeline's, read when needed
    for i in reversed(range(len(values))):
        if _looks_like_a_file(values[i]):
            steps = _default_steps() if steps is None else steps
            if values[i] not in steps:
                return values[i], [*values[:i], ALL, *values[i + 1 :]]
    return file, values


def _looks_like_a_file(value: str) -> bool:
    return value != ALL and (value.endswith((".yaml", ".yml")) or os.path.exists(value))


def _default_steps() -> Collection[str]:
    from mlops_nb.errors import ConfigError
    from mlops_nb.pipeline import spec

    try:
        return spec.load(spec.locate(None)).steps
    except ConfigError:  # no default pipeline file, or one that does not load
        return ()


def forced_steps(pipeline: Pipeline, force: Sequence[str] | None) -> bool | set[str]:
    """``--force`` values as ``engine.run`` takes them: True for every step, else the steps
    named. Raises ``ConfigError`` for a value that is no step of ``pipeline`` (one naming a
    file says where the pipeline file goes)."""
    from mlops_nb.errors import ConfigError

    if not force:
        return False
    if ALL in force:
        return True
    for name in force:
        if name not in pipeline.steps:
            hint = (
                f" To force every step of the pipeline file {name}: pipeline run {name} "
                "--force (the file goes before a bare --force, or after --force STEP)."
                if _looks_like_a_file(name)
                else ""
            )
            raise ConfigError(
                f"--force: no step {name!r}; steps: {', '.join(pipeline.steps)}.{hint}"
            )
    return set(force)
