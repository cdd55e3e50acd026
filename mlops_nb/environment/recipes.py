"""Container recipes for a run's environment: a Dockerfile, or repo2docker's files.

Dockerfile: ``python:<exact version>-slim`` (the official image's tags carry the patch version),
the hashed lock installed with ``pip install --require-hashes`` (https://pip.pypa.io/en/stable/
topics/secure-installs/), the project installed from source without dependencies, a non-root
user and ``mlops-nb`` as the entry point. Build it from the project root:
``docker build -f DIR/Dockerfile .``. repo2docker (https://repo2docker.readthedocs.io/en/latest/
configuration/): ``requirements.txt``, ``runtime.txt`` (``python-X.Y``: repo2docker picks the
patch version itself) and ``postBuild`` installing the project.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlops_nb.environment import RunEnvironment

USER = "mlops"
UID = 1000  # numeric in USER: a name may not resolve on the host (hadolint DL3066)


def _from_source(env: RunEnvironment, project: Path) -> list[str]:
    """Unindexed packages whose source is the project folder (installed with ``pip install .``)."""
    out = []
    for name, info in env.unindexed.items():
        url = str(info.get("url") or "")
        if url.startswith("file://") and Path(url.removeprefix("file://")).resolve() == project:
            out.append(name)
    return sorted(out)


def dockerfile(env: RunEnvironment, *, lock_path: str, project: Path) -> str:
    """The Dockerfile text; ``lock_path`` is the lock's path relative to the build context."""
    lines = [
        "# syntax=docker/dockerfile:1",
        f"# The environment of run {env.run_id} (Python {env.python}, {env.platform}).",
        "# Build from the project root: docker build -f <this file> -t IMAGE .",
        f"FROM python:{env.python}-slim",
        "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1",
        f"RUN useradd --create-home --uid {UID} {USER}",
        f"WORKDIR /home/{USER}/project",
        f"COPY {lock_path} /tmp/requirements.txt",
        "RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.txt",
        f"COPY --chown={USER}:{USER} . .",
    ]
    source = _from_source(env, project)
    if source:
        lines.append(f"# {', '.join(source)}: installed from this source, not from an index")
        lines.append("RUN pip install --no-cache-dir --no-deps .")
    others = sorted(set(env.unindexed) - set(source))
    for name in others:
        lines.append(
            f"# not installable from an index, add it yourself: {name} ({env.unindexed[name].get('url')})"
        )
    lines += [f"USER {UID}", 'ENTRYPOINT ["mlops-nb"]', 'CMD ["--help"]']
    return "\n".join(lines) + "\n"


def repo2docker(env: RunEnvironment, *, project: Path) -> dict[str, str]:
    """``{"runtime.txt", "postBuild"}`` (the lock goes beside them as requirements.txt)."""
    major_minor = ".".join(env.python.split(".")[:2])
    post = ["#!/bin/bash", "set -euo pipefail"]
    if _from_source(env, project):
        post.append("pip install --no-cache-dir --no-deps .")
    for name in sorted(set(env.unindexed) - set(_from_source(env, project))):
        post.append(f"# not installable from an index, add it yourself: {name}")
    return {"runtime.txt": f"python-{major_minor}\n", "postBuild": "\n".join(post) + "\n"}


def project_root(start: Path) -> Path:
    """The git work tree holding ``start`` (else ``start``): the build context."""
    here = start.resolve()
    for d in (here, *here.parents):
        if (d / ".git").exists():
            return d
    return here


def rel_posix(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()
