"""The fan-in of an exported grid step: copy the best candidate's output folder downstream.

``mlops-nb pipeline select --metric f1 --mode max --candidate DIR METRICS.json ...`` reads each
candidate's metrics file (written by ``mlops-nb run --metrics-file``), picks the best finite value
(``max`` or ``min``, as the local pipeline's ``select:`` does), copies its folder to
``--output-dir`` and writes its metrics, plus ``selected`` (the candidate folder), to
``--metrics-file``.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

from mlops_nb.errors import UsageError


def _metric(path: Path, metric: str) -> float | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--candidate: metrics file {path} not found.") from None
    except (OSError, ValueError) as e:
        raise UsageError(f"--candidate: cannot read metrics file {path}: {e}.") from None
    value = data.get(metric) if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def select(
    *,
    metric: str,
    mode: str,
    candidates: list[tuple[str, str]],
    output_dir: str,
    metrics_file: str,
) -> str:
    """Copy the best candidate folder to ``output_dir``; returns the chosen folder.

    Raises ``UsageError`` when no candidate has a finite value of ``metric``.
    """
    if mode not in ("max", "min"):
        raise UsageError(f"--mode {mode!r}: use max or min.")
    scored = [(v, d, m) for d, m in candidates if (v := _metric(Path(m), metric)) is not None]
    if not scored:
        raise UsageError(
            f"no candidate has a numeric {metric!r} in its metrics file; check the notebook glues "
            f"it (candidates: {', '.join(m for _, m in candidates)})."
        )
    best = (max if mode == "max" else min)(scored, key=lambda s: s[0])
    out = Path(output_dir)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(best[1], out)
    data: dict[str, Any] = json.loads(Path(best[2]).read_text(encoding="utf-8"))
    data["selected"] = best[1]
    from mlops_nb.execution.outputs import write_metrics

    write_metrics(metrics_file, data)
    return best[1]
