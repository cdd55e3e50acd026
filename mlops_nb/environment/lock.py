"""A run's exact package set as a pinned requirements file, optionally with hashes.

Hashes come from resolving the pins for the run's **exact** Python version (``3.11`` is not
enough: a package may need ``>= 3.11.5``), with ``uv pip compile --generate-hashes
--python-version X.Y.Z`` (https://docs.astral.sh/uv/reference/cli/#uv-pip-compile). Without uv,
``pip install --dry-run --report`` (https://pip.pypa.io/en/stable/reference/installation-report/)
resolves them, for this interpreter only, so only when it is the run's version.
Installer tooling (pip, setuptools, wheel) is left to the installer, and packages no index
serves (PEP 610 direct URLs, e.g. the project's own editable install) are listed as comments
that say how they get installed instead.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mlops_nb.environment import RunEnvironment
from mlops_nb.errors import UsageError
from mlops_nb.execution.provenance import INSTALLER_TOOLING


def pins(env: RunEnvironment) -> list[str]:
    """``name==version`` for every package an index serves, sorted."""
    return [f"{k}=={v}" for k, v in sorted(env.installable.items())]


def tooling(env: RunEnvironment) -> dict[str, str]:
    """The run's installer tooling (pip, setuptools, wheel...) with versions."""
    return {k: v for k, v in sorted(env.packages.items()) if k in INSTALLER_TOOLING}


def header(env: RunEnvironment, *, resolver: str | None) -> list[str]:
    lines = [
        f"# The environment of run {env.run_id}: Python {env.python} on {env.platform}.",
        "# Written by `mlops-nb env export`"
        + (f"; hashes resolved with {resolver} for Python {env.python}." if resolver else "."),
    ]
    if tooling(env):
        lines.append(
            f"# Installer tooling left to the installer: {', '.join(tooling(env))} (pinned below "
            "only where a package depends on it)."
        )
    for name, info in sorted(env.unindexed.items()):
        if name not in env.packages:
            continue
        how = "editable install" if info.get("editable") else "installed from"
        lines.append(
            f"# Not from an index: {name}=={env.packages[name]} ({how} {info.get('url')}); "
            "install it from its source (the Dockerfile does so for the project)."
        )
    return lines


def _uv() -> str | None:
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin  # the `uv` package from PyPI ships the binary

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


def resolve_with_hashes(env: RunEnvironment) -> tuple[str, str]:
    """``(requirements text with --hash lines, resolver name)`` for exactly the run's pins.

    Raises ``UsageError`` when neither uv nor a matching pip can resolve them (with the fix).
    """
    requirements = "\n".join(pins(env)) + "\n"
    # tooling is not pinned, but a package that depends on it at run time gets the run's version
    constraints = "".join(f"{k}=={v}\n" for k, v in sorted(tooling(env).items()))
    uv = _uv()
    if uv is not None:
        return _uv_compile(uv, requirements, constraints, env.python), "uv"
    if platform.python_version() != env.python:
        raise UsageError(
            f"run {env.run_id} ran Python {env.python}; resolving its hashes here (Python "
            f"{platform.python_version()}) needs uv: pip install uv (or the [env] extra)."
        )
    return _pip_report(requirements, constraints), "pip"


def _run(cmd: list[str], what: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise UsageError(f"{what} failed: " + " / ".join(tail))
    return done.stdout


def _inputs(tmp: str, requirements: str, constraints: str) -> tuple[Path, Path]:
    req, con = Path(tmp) / "requirements.in", Path(tmp) / "constraints.txt"
    req.write_text(requirements, encoding="utf-8")
    con.write_text(constraints, encoding="utf-8")
    return req, con


def _uv_compile(uv: str, requirements: str, constraints: str, python: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        req, con = _inputs(tmp, requirements, constraints)
        out = _run(
            [
                uv,
                "pip",
                "compile",
                str(req),
                "--constraint",
                str(con),
                "--generate-hashes",
                "--python-version",
                python,
                "--python-platform",
                "linux",
                "--no-header",
                "--no-annotate",
                "--quiet",
                "--no-config",
            ],
            "uv pip compile",
        )
    return out


def _pip_report(requirements: str, constraints: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        req, con = _inputs(tmp, requirements, constraints)
        report = Path(tmp) / "report.json"
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--dry-run",
                "--ignore-installed",
                "--quiet",
                "--report",
                str(report),
                "-r",
                str(req),
                "-c",
                str(con),
            ],
            "pip install --dry-run",
        )
        data = json.loads(report.read_text(encoding="utf-8"))
    lines = []
    for item in sorted(data.get("install", []), key=lambda i: i["metadata"]["name"].lower()):
        meta, hashes = item["metadata"], item["download_info"].get("archive_info", {})
        digest = (hashes.get("hashes") or {}).get("sha256")
        line = f"{meta['name']}=={meta['version']}"
        lines.append(line + (f" \\\n    --hash=sha256:{digest}" if digest else ""))
    return "\n".join(lines) + "\n"


def requirements(env: RunEnvironment, *, hashes: bool) -> str:
    """The lock file's text (pins, or pins with hashes)."""
    if hashes:
        body, resolver = resolve_with_hashes(env)
        return "\n".join(header(env, resolver=resolver)) + "\n" + body
    return "\n".join([*header(env, resolver=None), *pins(env)]) + "\n"


def names_in(text: str) -> dict[str, str]:
    """``{name: version}`` of the ``name==version`` lines of a requirements file."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().rstrip("\\").strip()
        if "==" in line and not line.startswith("-"):
            name, _, version = line.partition("==")
            key = os.path.normcase(name.strip()).lower().replace("_", "-").replace(".", "-")
            out[key] = version.split(";", 1)[0].strip()
    return out
