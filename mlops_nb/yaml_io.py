"""The YAML adapter: safe loading only, errors with file and line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlops_nb.errors import ConfigError


def _loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def loads(text: str, *, source: str) -> Any:
    """Parse YAML text; a syntax error names the source and line."""
    import yaml

    try:
        return yaml.load(text, Loader=_loader())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}.") from None


def load(path: str | os.PathLike[str]) -> Any:
    """Read and parse a YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot read it: {e}.") from None
    return loads(text, source=str(p))


def dumps(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
