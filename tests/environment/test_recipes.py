"""`env export`'s lock and container recipes for a run, built from what the run recorded.

The run is written into a real runs store (a record and ``environment.json``, as the runner leaves
them); its lock is resolved by the real pip (or uv, if installed) offline, against a one-wheel
folder made here, so these tests need neither a kernel nor a network.
"""

from __future__ import annotations

import json
import os
import platform
import stat
import zipfile
from pathlib import Path

import pytest

from mlops_nb.environment import RunEnvironment, export, recipes
from mlops_nb.errors import UsageError
from mlops_nb.main import main
from mlops_nb.store import runs as store

PY = platform.python_version()


def _env(**over: object) -> RunEnvironment:
    base: dict[str, object] = {
        "run_id": "20260101T000000-abcd-train",
        "python": "3.11.7",
        "platform": "Linux-6.1-x86_64",
        "machine": "x86_64",
        "packages": {"tinypkg": "1.0", "pip": "24.0", "mlops-nb": "0.1", "gitdep": "2.0"},
        "unindexed": {},
    }
    base.update(over)
    return RunEnvironment(**base)  # type: ignore[arg-type]


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True, exist_ok=True)
    return project.resolve()


def _unindexed(project: Path) -> dict[str, dict[str, object]]:
    return {
        "mlops-nb": {"url": project.as_uri(), "editable": True},
        "gitdep": {"url": "git+https://example.org/gitdep.git"},
    }


def test_dockerfile_pins_the_exact_python_and_installs_the_lock_with_hashes(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    text = recipes.dockerfile(
        _env(unindexed=_unindexed(project)), lock_path="build/env/requirements.txt", project=project
    )
    lines = text.splitlines()
    assert "FROM python:3.11.7-slim" in lines
    assert "COPY build/env/requirements.txt /tmp/requirements.txt" in lines
    assert (
        "RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.txt"
        in lines
    )
    # the project (an editable install of this folder) is installed from the build context
    assert "# mlops-nb: installed from this source, not from an index" in lines
    assert lines.index("RUN pip install --no-cache-dir --no-deps .") > lines.index(
        f"COPY --chown={recipes.USER}:{recipes.USER} . ."
    )
    # a package from elsewhere is named, with its URL, for the user to add
    assert any(
        ln.startswith("# not installable from an index, add it yourself: gitdep (git+https://")
        for ln in lines
    )
    # a non-root numeric user runs mlops-nb
    assert lines[-3:] == [f"USER {recipes.UID}", 'ENTRYPOINT ["mlops-nb"]', 'CMD ["--help"]']
    assert text.endswith("\n")


def test_dockerfile_without_a_source_install(tmp_path: Path) -> None:
    text = recipes.dockerfile(_env(), lock_path="requirements.txt", project=_project(tmp_path))
    assert "RUN pip install --no-cache-dir --no-deps ." not in text
    assert "not installable from an index" not in text


def test_a_file_url_of_another_folder_is_not_the_project(tmp_path: Path) -> None:
    project = _project(tmp_path)
    elsewhere = (tmp_path / "vendored").resolve()
    env = _env(unindexed={"mlops-nb": {"url": elsewhere.as_uri()}})
    assert "RUN pip install --no-cache-dir --no-deps ." not in recipes.dockerfile(
        env, lock_path="r.txt", project=project
    )
    files = recipes.repo2docker(env, project=project)
    assert files["postBuild"].splitlines()[-1] == (
        "# not installable from an index, add it yourself: mlops-nb"
    )


def test_repo2docker_files(tmp_path: Path) -> None:
    project = _project(tmp_path)
    files = recipes.repo2docker(_env(unindexed=_unindexed(project)), project=project)
    assert files["runtime.txt"] == "python-3.11\n"  # repo2docker picks the patch version
    assert files["postBuild"].splitlines() == [
        "#!/bin/bash",
        "set -euo pipefail",
        "pip install --no-cache-dir --no-deps .",
        "# not installable from an index, add it yourself: gitdep",
    ]


def test_project_root_is_the_git_work_tree(tmp_path: Path) -> None:
    project = _project(tmp_path)
    deep = project / "notebooks" / "eda"
    deep.mkdir(parents=True)
    assert recipes.project_root(deep) == project
    outside = tmp_path / "loose"
    outside.mkdir()
    assert recipes.project_root(outside) == outside.resolve()
    assert recipes.rel_posix(deep / "requirements.txt", project) == (
        "notebooks/eda/requirements.txt"
    )


# --- export: a run in a real store, a lock resolved offline ---------------------------------------


def _wheel(folder: Path, name: str = "tinypkg", version: str = "1.0") -> Path:
    """A pure-Python wheel pip can resolve without an index (PEP 427 layout)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}/__init__.py", "")
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        z.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip and uv resolve from one local wheel folder, never from an index."""
    wheels = tmp_path / "wheels"
    _wheel(wheels)
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no site index or find-links
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("UV_NO_INDEX", "1")
    monkeypatch.setenv("UV_FIND_LINKS", str(wheels))
    return wheels


def _run_folder(runs_dir: Path, project: Path, *, python: str = PY) -> Path:
    folder = store.create_run_folder(runs_dir, store.new_run_id("train"))
    record = {
        "id": folder.name,
        "status": "ok",
        "notebook": {"path": "train.ipynb"},
        "environment": {
            "python": python,
            "platform": "Linux-6.1-x86_64",
            "machine": "x86_64",
            "unindexed": {"mlops-nb": {"url": project.as_uri(), "editable": True}},
        },
    }
    (folder / store.RECORD).write_text(json.dumps(record), encoding="utf-8")
    packages = {"tinypkg": "1.0", "pip": "24.0", "mlops-nb": "0.1"}
    (folder / store.ENVIRONMENT).write_text(json.dumps(packages), encoding="utf-8")
    return folder


def test_requirements_without_hashes_is_printed_not_written(tmp_path: Path, runs_dir: Path) -> None:
    project = _project(tmp_path)
    files = export.export(
        _run_folder(runs_dir, project), fmt="requirements", out_dir=None, hashes=False
    )
    assert list(files) == ["requirements.txt"]
    body = [ln for ln in files["requirements.txt"].splitlines() if not ln.startswith("#")]
    assert body == ["tinypkg==1.0"]  # no pip (tooling), no mlops-nb (not from an index)


def test_dockerfile_export_writes_a_hashed_lock_beside_it(
    tmp_path: Path, runs_dir: Path, offline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    folder = _run_folder(runs_dir, project)
    files = export.export(folder, fmt="dockerfile", out_dir="build/env", hashes=False)
    out = project / "build" / "env"
    assert sorted(p.name for p in out.iterdir()) == ["Dockerfile", "requirements.txt"]
    lock_text = (out / "requirements.txt").read_text(encoding="utf-8")
    assert lock_text == files["requirements.txt"]
    digest = __import__("hashlib").sha256(next(offline.iterdir()).read_bytes()).hexdigest()
    assert f"--hash=sha256:{digest}" in lock_text  # hashes even without --hashes
    assert "COPY build/env/requirements.txt /tmp/requirements.txt" in (
        out / "Dockerfile"
    ).read_text(encoding="utf-8")


def test_repo2docker_export_makes_postbuild_executable(
    tmp_path: Path, runs_dir: Path, offline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    out = tmp_path / "binder"
    assert main(["env", "export", _run_folder(runs_dir, project).name, "--runs-dir",
                 str(runs_dir), "--format", "repo2docker", "-o", str(out)]) == 0  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == ["postBuild", "requirements.txt", "runtime.txt"]
    mode = (out / "postBuild").stat().st_mode
    assert mode & stat.S_IXUSR
    assert bool(mode & stat.S_IXOTH) == bool(mode & stat.S_IROTH)  # executable where readable
    assert "--hash=sha256:" in (out / "requirements.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("fmt", "out_dir", "message"),
    [
        ("conda", None, "--format 'conda': unknown; valid: requirements, dockerfile, repo2docker."),
        ("repo2docker", None, "--format repo2docker writes several files: give -o DIR."),
        ("dockerfile", "../outside", "the Dockerfile's folder must be inside the build context"),
    ],
    ids=["unknown-format", "no-out-dir", "outside-the-project"],
)
def test_export_refuses_bad_usage_before_writing(
    tmp_path: Path,
    runs_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    out_dir: str | None,
    message: str,
    offline: Path,
) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    with pytest.raises(UsageError) as e:
        export.export(_run_folder(runs_dir, project), fmt=fmt, out_dir=out_dir, hashes=False)
    assert message in e.value.message
    assert not (tmp_path / "outside").exists()


def test_export_into_an_unwritable_place_is_one_clear_error(tmp_path: Path, runs_dir: Path) -> None:
    project = _project(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(UsageError, match=r"-o .*a-file/env: cannot write there: "):
        export.export(
            _run_folder(runs_dir, project),
            fmt="requirements",
            out_dir=blocker / "env",
            hashes=False,
        )


def test_hashes_for_another_python_need_uv(
    tmp_path: Path, runs_dir: Path, offline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_nb.environment import lock

    if lock._uv() is not None:
        pytest.skip("uv is installed here: it resolves for any Python version")
    monkeypatch.chdir(_project(tmp_path))
    folder = _run_folder(runs_dir, _project(tmp_path), python="3.9.1")
    with pytest.raises(UsageError, match=r"ran Python 3\.9\.1; .* needs uv: pip install uv"):
        export.export(folder, fmt="requirements", out_dir=None, hashes=True)


def test_a_lock_that_cannot_be_resolved_is_one_clear_error(
    tmp_path: Path, runs_dir: Path, offline: Path
) -> None:
    folder = _run_folder(runs_dir, _project(tmp_path))
    (folder / store.ENVIRONMENT).write_text(json.dumps({"tinypkg": "9.9"}), encoding="utf-8")
    with pytest.raises(UsageError) as e:
        export.export(folder, fmt="requirements", out_dir=None, hashes=True)
    assert e.value.message.startswith(("pip install --dry-run failed: ", "uv pip compile failed: "))
    assert "tinypkg" in e.value.message


@pytest.mark.parametrize("content", [None, "{not json", "[1, 2]"], ids=["missing", "bad", "list"])
def test_a_run_without_a_readable_environment_cannot_be_exported(
    tmp_path: Path, runs_dir: Path, content: str | None
) -> None:
    folder = _run_folder(runs_dir, _project(tmp_path))
    env_file = folder / store.ENVIRONMENT
    env_file.unlink()
    if content is not None:
        env_file.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match="no recorded environment"):
        export.export(folder, fmt="requirements", out_dir=None, hashes=False)


def test_the_lock_header_says_what_is_left_out_and_why() -> None:
    from mlops_nb.environment import lock

    env = _env(
        packages={"tinypkg": "1.0", "pip": "24.0", "gitdep": "2.0"},
        unindexed={
            "gitdep": {"url": "git+https://example.org/gitdep.git"},
            "uninstalled": {"url": "file:///gone"},  # recorded, but no longer in the package set
        },
    )
    text = lock.requirements(env, hashes=False)
    assert text.splitlines() == [
        "# The environment of run 20260101T000000-abcd-train: Python 3.11.7 on Linux-6.1-x86_64.",
        "# Written by `mlops-nb env export`.",
        "# Installer tooling left to the installer: pip (pinned below only where a package "
        "depends on it).",
        "# Not from an index: gitdep==2.0 (installed from git+https://example.org/gitdep.git); "
        "install it from its source (the Dockerfile does so for the project).",
        "tinypkg==1.0",
    ]
    assert lock.names_in(text) == {"tinypkg": "1.0"}
