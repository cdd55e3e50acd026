"""Templates and project skeletons: ``mlops-nb new`` and ``mlops-nb init``.

Templates are the ``.ipynb`` files of the ``templates`` folder, found inside an installed wheel
(``mlops_nb/templates``) or at the root of an editable checkout. Light: json and pathlib only.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from mlops_nb.errors import UsageError
from mlops_nb.notebook.io import atomic_write_text, read_json, source_of, write_user_file

log = logging.getLogger(__name__)

GITIGNORE_LINES = ("runs/", ".ipynb_checkpoints/")

PRE_COMMIT_CONFIG = """\
# Notebook hygiene on every commit (https://pre-commit.com). Once: `pre-commit install`.
# mlops-nb-hook lints each notebook as saved (linear execution, parameters on top, little code,
# no errors) and then strips outputs, so only clean, output-free notebooks are committed.
repos:
  - repo: local
    hooks:
      - id: mlops-nb-hook
        name: mlops-nb (lint notebooks as saved, then strip outputs)
        entry: mlops-nb-hook
        language: system
        types: [jupyter]
        # recorded runs (a folder named by a run id) are results, kept as they ran
        exclude: '(^|/)\\d{8}T\\d{6}\\.\\d{6}Z-[0-9a-f]{6}(-[^/]+)?/'
"""

README = """\
# {name}

Machine-learning work as parameterized notebooks, run and tracked with
[mlops-nb](https://pypi.org/project/mlops-nb/) (`pip install 'mlops-nb[ml]'`).

| notebook | does |
| --- | --- |
{rows}

Run one (results go to `runs/`, which git ignores):

    mlops-nb run notebooks/eda.ipynb
    mlops-nb run notebooks/train.ipynb -p model random_forest
    mlops-nb collect

Every notebook takes its data from the `data` parameter (`builtin:NAME` or a CSV/parquet path).
Before the first commit: `git init && pre-commit install`, so notebooks are linted and stripped.
"""


def package_templates_dir() -> Path:
    """``templates`` inside the installed package (wheel layout)."""
    import mlops_nb

    return Path(mlops_nb.__file__).parent / "templates"


def checkout_templates_dir() -> Path:
    """``templates`` at the root of a source checkout (editable install)."""
    import mlops_nb

    return Path(mlops_nb.__file__).parent.parent / "templates"


def templates_dir(candidates: list[Path] | None = None) -> Path:
    """The first folder holding templates: the wheel's, then the checkout's."""
    folders = (
        candidates
        if candidates is not None
        else [package_templates_dir(), checkout_templates_dir()]
    )
    for folder in folders:
        if folder.is_dir() and any(folder.glob("*.ipynb")):
            return folder
    raise UsageError(
        "no notebook templates found (looked in " + ", ".join(str(f) for f in folders) + "). "
        "Reinstall mlops-nb: pip install --force-reinstall mlops-nb"
    )


def list_templates(folder: Path | None = None) -> dict[str, str]:
    """Template name → its title (the first markdown heading), sorted by name."""
    root = folder or templates_dir()
    return {p.stem: _title(p) for p in sorted(root.glob("*.ipynb"))}


def _title(path: Path) -> str:
    try:
        nb = read_json(path)
    except Exception:  # an unreadable template still gets listed; `new` reports the problem
        return ""
    for cell in nb["cells"]:
        if cell.get("cell_type") == "markdown":
            for line in source_of(cell).splitlines():
                if line.strip():
                    return line.lstrip("#").strip()
    return ""


def template_path(name: str, folder: Path | None = None) -> Path:
    """The file of template ``name`` (``train`` or ``train.ipynb``)."""
    root = folder or templates_dir()
    stem = name.removesuffix(".ipynb")
    path = root / f"{stem}.ipynb"
    if not path.is_file():
        from mlops_nb.notebook.params import did_you_mean

        names = list(list_templates(root))
        raise UsageError(
            f"unknown template {name!r}.{did_you_mean(stem, names)} "
            f"Templates: {', '.join(names)} (list them with: mlops-nb new --list)."
        )
    return path


def _target(template: str, given: str | Path) -> Path:
    stem = template.removesuffix(".ipynb")
    path = Path(given)
    if path.is_dir() or str(given).endswith(("/", "\\")):
        return path / f"{stem}.ipynb"
    # `exp.v2` is a name, not a suffix to replace
    return path if path.suffix == ".ipynb" else path.with_name(path.name + ".ipynb")


def new_notebook(
    template: str, path: str | Path, *, force: bool = False, folder: Path | None = None
) -> Path:
    """Copy template ``template`` to ``path`` (a file, or a folder to put ``TEMPLATE.ipynb`` in).

    Refuses to overwrite an existing file unless ``force``. Returns the written path.
    """
    source = template_path(template, folder)
    target = _target(template, path)
    if target.exists() and not force:
        raise UsageError(
            f"{target} already exists; choose another path or pass --force to overwrite."
        )
    text = source.read_text(encoding="utf-8")
    read_json(source)  # a broken template must not be copied silently
    target.parent.mkdir(parents=True, exist_ok=True)
    write_user_file(target, text)  # a FIFO given with --force is written, not replaced
    log.info("created %s from template %s", target, source)
    return target


@dataclass
class InitResult:
    """What ``init_project`` created, and what it found and left alone."""

    root: Path
    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def init_project(
    directory: str | Path = ".", *, force: bool = False, folder: Path | None = None
) -> InitResult:
    """A project skeleton in ``directory``: ``notebooks/`` from every template, ``.gitignore``
    (ignoring ``runs/``), ``.pre-commit-config.yaml`` using ``mlops-nb-hook`` and a README stub.

    Existing files are kept (``force`` overwrites the notebooks); ``.gitignore`` gets the
    missing lines appended.
    """
    if os.fspath(directory) == "":  # Path("") is ".": the user meant some folder, not this one
        raise UsageError(
            "init: an empty DIR ('') names no folder; name the project folder, or leave DIR out "
            "for the current one."
        )
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file; give a folder for the new project.")
    root.mkdir(parents=True, exist_ok=True)
    result = InitResult(root)
    templates = list_templates(folder)
    for name in templates:
        target = root / "notebooks" / f"{name}.ipynb"
        if target.exists() and not force:
            result.kept.append(target)
        else:
            result.created.append(new_notebook(name, target, force=True, folder=folder))
    _gitignore(root / ".gitignore", result)
    rows = "\n".join(f"| `notebooks/{n}.ipynb` | {t} |" for n, t in templates.items())
    pipeline = (folder or templates_dir()) / "pipeline.yaml"
    if pipeline.is_file():  # eda -> train -> evaluate/monitor -> report over the notebooks above
        _write_new(
            root / "notebooks" / "pipeline.yaml", pipeline.read_text(encoding="utf-8"), result
        )
    _write_new(root / ".pre-commit-config.yaml", PRE_COMMIT_CONFIG, result)
    _write_new(root / "README.md", README.format(name=root.resolve().name, rows=rows), result)
    return result


def _write_new(path: Path, text: str, result: InitResult) -> None:
    if path.exists():
        result.kept.append(path)
        return
    atomic_write_text(path, text)
    result.created.append(path)


def _gitignore(path: Path, result: InitResult) -> None:
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    have = {ln.strip() for ln in existing.splitlines()}
    missing = [ln for ln in GITIGNORE_LINES if ln not in have and ln.rstrip("/") not in have]
    if not missing:
        result.kept.append(path)
        return
    prefix = existing + ("" if not existing or existing.endswith("\n") else "\n")
    atomic_write_text(path, prefix + "\n".join(missing) + "\n")
    result.created.append(path)
