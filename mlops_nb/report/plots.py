"""Seaborn figures for the report, rendered to PNG data URIs (matplotlib's Agg, no pyplot)."""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MAX_GROUPS = 6
MAX_METRICS = 4
MAX_PARAMS = 4


@dataclass(frozen=True)
class Plot:
    """One figure: a title (plain text, escaped by the page) and a PNG data URI."""

    group: str
    title: str
    uri: str


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _numeric(s: pd.Series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Numpy dtypes with NaN for seaborn: floats for numbers, text for everything else."""
    import numpy as np
    import pandas as pd

    out = {}
    for c in df.columns:
        s = df[c]
        if _numeric(s):
            out[c] = s.to_numpy(dtype="float64", na_value=np.nan)
        else:
            out[c] = s.astype(object).where(s.notna(), "(none)").astype(str).to_numpy(dtype=object)
    return pd.DataFrame(out)


def groups(df: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """Runs grouped by sweep (when in one) or notebook: plots compare like with like."""
    import pandas as pd

    label = pd.Series(
        [
            "sweep " + str(s) if s is not pd.NA else "notebook " + str(n)
            for s, n in zip(df["sweep"], df["notebook"], strict=True)
        ],
        index=df.index,
    )
    for i, (name, sub) in enumerate(df.groupby(label, sort=True)):
        if i >= MAX_GROUPS:
            break
        yield str(name), sub


def metric_plots(df: pd.DataFrame) -> list[Plot]:
    """Per group: one figure per numeric scrap, one panel per varying parameter."""
    import seaborn as sns
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    plots: list[Plot] = []
    ok = df[df["status"] == "ok"]
    for group, sub in groups(ok):
        metrics = [
            c
            for c in sub.columns
            if c.startswith("scraps.") and _numeric(sub[c]) and sub[c].notna().any()
        ][:MAX_METRICS]
        params = [
            c for c in sub.columns if c.startswith("params.") and sub[c].nunique(dropna=False) > 1
        ][:MAX_PARAMS]
        if not metrics or not params:
            continue
        data = _plain(sub[metrics + params])
        for metric in metrics:
            with rc_context({"text.parse_math": False}), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # seaborn/matplotlib style notes are not ours
                fig = Figure(figsize=(3.4 * len(params), 3.0))
                axes = fig.subplots(1, len(params), squeeze=False)[0]
                for ax, param in zip(axes, params, strict=True):
                    if _numeric(sub[param]):
                        sns.lineplot(data=data, x=param, y=metric, marker="o", errorbar=None, ax=ax)
                    else:
                        sns.stripplot(data=data, x=param, y=metric, ax=ax)
                    ax.set_xlabel(param.removeprefix("params."))
                    ax.set_ylabel(metric.removeprefix("scraps."))
                fig.suptitle(f"{metric.removeprefix('scraps.')} ({group})", fontsize=10)
                plots.append(Plot(group, f"{metric} against parameters", _png(fig)))
    return plots


def duration_plot(df: pd.DataFrame) -> Plot | None:
    """Run durations by notebook and status."""
    import seaborn as sns
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    if df["duration"].notna().sum() == 0:
        return None
    data = _plain(df[["notebook", "status", "duration"]])
    with rc_context({"text.parse_math": False}), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = Figure(figsize=(7, 0.5 + 0.45 * data["notebook"].nunique() + 1.2))
        ax = fig.subplots()
        sns.stripplot(data=data, x="duration", y="notebook", hue="status", ax=ax)
        ax.set_xlabel("duration (s)")
        ax.set_xlim(left=0)
    return Plot("all runs", "run durations", _png(fig))
