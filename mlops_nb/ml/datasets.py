"""Bundled data sets as DataFrames, loadable by name (``builtin:NAME``) or from a CSV/parquet path.

| name | rows | target | task |
| --- | --- | --- | --- |
| ``rare_events`` | 3,130 healthy + 112 faulty magnet signals (summary features) | ``faulty`` | binary, rare |
| ``rare_events_drifted`` | a "production" batch: 1,500 + 54 signals, shifted features, more missing and malformed values, a new magnet type | ``faulty`` | binary |
| ``breast_cancer`` | 569 | ``malignant`` (1 = malignant) | binary |
| ``wine`` | 178 | ``target`` | 3 classes |
| ``iris`` | 150 | ``target`` | 3 classes |
| ``diabetes`` | 442 | ``target`` | regression |

Generated sets are deterministic for a seed. Options go after ``?`` like a URL query, e.g.
``builtin:rare_events?seed=3&n_healthy=1000`` (a fresh sample of the same distribution).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
import pandas as pd

from mlops_nb.ml import rare_events

BUILTIN_PREFIX = "builtin:"
MALFORMED_TOKENS = ("ERR", "n/a", "#VALUE!", "--")


def make_rare_events(n_healthy: int = 3130, n_faulty: int = 112, *, seed: int = 0) -> pd.DataFrame:
    """The rare-event data set: one row per signal, its summary features and ``faulty`` (0/1)."""
    signals = rare_events.make_signals(n_healthy, n_faulty, seed=seed)
    df = rare_events.signal_features(signals)
    df.insert(0, "signal_id", [f"S{seed:03d}-{i:05d}" for i in range(len(df))])
    df["faulty"] = signals.faulty
    return df


def make_rare_events_drifted(
    n_healthy: int = 1500,
    n_faulty: int = 54,
    *,
    seed: int = 1,
    missing_rate: float = 0.08,
    malformed_rate: float = 0.03,
) -> pd.DataFrame:
    """A drifted production batch of the rare-event data.

    Aged sensors (noise × 1.5, sampling jitter × 1.6), a calibration offset (bias + 0.02), a new
    magnet type ``MQY`` and a changed type mix; ``missing_rate`` of ``noise_level``/``bias`` lost,
    ``malformed_rate`` of ``sampling_jitter`` unreadable text (so the column is text) and a few
    ``plateau_level`` readings at the sentinel -999.
    """
    signals = rare_events.make_signals(
        n_healthy,
        n_faulty,
        seed=seed,
        noise_scale=1.5,
        bias_shift=0.02,
        jitter_scale=1.6,
        magnet_probs=(0.3, 0.3, 0.2, 0.2),
    )
    df = rare_events.signal_features(signals)
    df.insert(0, "signal_id", [f"P{seed:03d}-{i:05d}" for i in range(len(df))])
    df["faulty"] = signals.faulty
    rng = np.random.default_rng(seed + 10_000)
    for col in ("noise_level", "bias"):
        df.loc[rng.random(len(df)) < missing_rate, col] = np.nan
    jitter = df["sampling_jitter"].astype(object)
    bad = rng.random(len(df)) < malformed_rate
    jitter[bad] = rng.choice(list(MALFORMED_TOKENS), int(bad.sum()))
    df["sampling_jitter"] = jitter
    df.loc[rng.random(len(df)) < 0.01, "plateau_level"] = -999.0
    return df


def _sklearn(name: str) -> pd.DataFrame:
    from sklearn import datasets as skd

    loaders: dict[str, Callable[..., Any]] = {
        "breast_cancer": skd.load_breast_cancer,
        "wine": skd.load_wine,
        "iris": skd.load_iris,
        "diabetes": skd.load_diabetes,
    }
    bunch = loaders[name](as_frame=True)
    df: pd.DataFrame = bunch.frame.copy()
    df.columns = [str(c).replace(" ", "_").replace("(", "").replace(")", "") for c in df.columns]
    if name == "breast_cancer":  # sklearn codes 0 = malignant; make the class of interest 1
        df["malignant"] = 1 - df.pop("target")
    return df


GENERATED: dict[str, Callable[..., pd.DataFrame]] = {
    "rare_events": make_rare_events,
    "rare_events_drifted": make_rare_events_drifted,
}
SKLEARN = ("breast_cancer", "wine", "iris", "diabetes")
TARGETS = {
    "rare_events": "faulty",
    "rare_events_drifted": "faulty",
    "breast_cancer": "malignant",
    "wine": "target",
    "iris": "target",
    "diabetes": "target",
}


def builtin_names() -> list[str]:
    """Names accepted after ``builtin:``."""
    return [*GENERATED, *SKLEARN]


def _options(query: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in parse_qsl(query, strict_parsing=True):
        try:
            out[key] = int(value)
        except ValueError:
            out[key] = float(value)
    return out


def load_dataset(source: str, **options: Any) -> pd.DataFrame:
    """A DataFrame from ``builtin:NAME[?key=value&...]`` or a ``.csv``/``.parquet`` path.

    Keyword ``options`` (e.g. ``seed=3``) are passed to a generated set's maker, like the query.
    Raises ``ValueError`` naming the valid choices for an unknown name or file type and
    ``FileNotFoundError`` for a missing file.
    """
    if source.startswith(BUILTIN_PREFIX):
        name, _, query = source[len(BUILTIN_PREFIX) :].partition("?")
        kwargs = {**(_options(query) if query else {}), **options}
        if name in GENERATED:
            return GENERATED[name](**kwargs)
        if name in SKLEARN:
            if kwargs:
                raise ValueError(f"builtin:{name} takes no options (got {sorted(kwargs)})")
            return _sklearn(name)
        raise ValueError(
            f"unknown bundled data set {name!r}; choose one of: "
            + ", ".join(BUILTIN_PREFIX + n for n in builtin_names())
        )
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"data file {source!r} does not exist")
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise ValueError(
        f"{source!r}: unsupported data file type; use .csv or .parquet, or builtin:NAME"
    )


def default_target(source: str) -> str | None:
    """The target column of a bundled data set (None for files)."""
    if not source.startswith(BUILTIN_PREFIX):
        return None
    return TARGETS.get(source[len(BUILTIN_PREFIX) :].partition("?")[0])
