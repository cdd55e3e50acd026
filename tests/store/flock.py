"""Is a file's ``flock`` held? Asked from another process, as a second holder would ask."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    print("held")
"""


def held(path: Path) -> bool:
    """Whether another process holds an exclusive ``flock`` on ``path``."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip() == "held"
