"""Rare events: simulated magnet signals, their summary features, augmentation, case-control sampling.

The lecture's example: 3,130 healthy and 112 faulty magnet signals. A faulty signal shows one or
more *issues* — extra noise, a gap, a bias (offset), wrong sampling (irregular time stamps) — and a
healthy one shows them rarely and mildly, so the classes overlap as real data do.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

ISSUES = ("noise", "gap", "bias", "sampling")
MAGNET_TYPES = ("MB", "MQ", "MQX")

# Thresholds of ``issue_tags`` (on the summary features); chosen well above the healthy spread.
TAG_THRESHOLDS = {"noise": 0.025, "gap": 5.0, "bias": 0.04, "sampling": 0.2}


class Signals(NamedTuple):
    """Raw signals: ``times`` and ``values`` are (n, length) arrays (NaN = a lost sample)."""

    times: np.ndarray
    values: np.ndarray
    faulty: np.ndarray  # 0/1 per signal
    issues: pd.DataFrame  # the true issues of each signal (bool columns ``ISSUES``)
    magnet_type: np.ndarray


def make_signals(
    n_healthy: int = 3130,
    n_faulty: int = 112,
    *,
    seed: int = 0,
    length: int = 256,
    noise_scale: float = 1.0,
    bias_shift: float = 0.0,
    jitter_scale: float = 1.0,
    magnet_probs: tuple[float, ...] = (0.5, 0.35, 0.15),
) -> Signals:
    """Simulate magnet current signals (a ramp to a plateau), healthy first then faulty, shuffled.

    ``noise_scale``, ``bias_shift`` and ``jitter_scale`` distort every signal (for drifted
    batches); ``magnet_probs`` may have one more entry than ``MAGNET_TYPES`` to add a new type.
    """
    rng = np.random.default_rng(seed)
    n = n_healthy + n_faulty
    faulty = np.r_[np.zeros(n_healthy, dtype=int), np.ones(n_faulty, dtype=int)]
    rng.shuffle(faulty)
    # Faulty: each issue with p=0.5, at least one. Healthy: each issue with p=0.01, mild.
    p_issue = np.where(faulty[:, None] == 1, 0.5, 0.01)
    issues = rng.random((n, len(ISSUES))) < p_issue
    none = (faulty == 1) & ~issues.any(axis=1)
    issues[none, rng.integers(0, len(ISSUES), none.sum())] = True
    severity = np.where(faulty == 1, 1.0, 0.5)

    dt = 1.0 / length
    jitter = rng.uniform(0.02, 0.08, n) * jitter_scale
    jitter = np.where(issues[:, 3], rng.uniform(0.25, 0.6, n) * severity, jitter)
    steps = dt * (1 + jitter[:, None] * rng.standard_normal((n, length)))
    times = np.cumsum(np.clip(steps, dt * 0.05, None), axis=1) - steps[:, :1]

    amplitude = rng.uniform(0.8, 1.2, n)
    profile = np.clip((times - 0.2) / 0.25, 0.0, 1.0) * amplitude[:, None]
    sigma = np.exp(rng.normal(np.log(0.01), 0.2, n)) * noise_scale
    sigma = np.where(issues[:, 0], sigma * rng.uniform(3.0, 6.0, n) * severity, sigma)
    bias = rng.normal(bias_shift, 0.008, n)
    sign = rng.choice([-1.0, 1.0], n)
    bias = np.where(issues[:, 2], bias + sign * rng.uniform(0.05, 0.12, n) * severity, bias)
    values = profile + bias[:, None] + sigma[:, None] * rng.standard_normal((n, length))

    # Lost samples: healthy signals drop a sample now and then; a gap loses a long run.
    values[rng.random((n, length)) < 0.002] = np.nan
    gap_len = (rng.uniform(10, 40, n) * severity).astype(int)
    gap_start = rng.integers(0, length - 40, n)
    cols = np.arange(length)[None, :]
    in_gap = (cols >= gap_start[:, None]) & (cols < (gap_start + gap_len)[:, None])
    values[in_gap & issues[:, 1:2]] = np.nan

    probs = np.asarray(magnet_probs, dtype=float)
    names = np.array([*MAGNET_TYPES, "MQY"][: len(probs)])
    magnet = rng.choice(names, n, p=probs / probs.sum())
    return Signals(times, values, faulty, pd.DataFrame(issues, columns=list(ISSUES)), magnet)


def _longest_nan_run(values: np.ndarray) -> np.ndarray:
    lost = np.isnan(values)
    count = np.cumsum(lost, axis=1)
    # Length of the current run = count now minus count at the last present sample.
    run = count - np.maximum.accumulate(np.where(~lost, count, 0), axis=1)
    return np.asarray(run.max(axis=1), dtype=int)


def signal_features(signals: Signals) -> pd.DataFrame:
    """Summary features of each signal: noise level, gaps, bias, sampling irregularity, level."""
    t, v = signals.times, signals.values
    dv = np.diff(v, n=2, axis=1)
    noise = np.nanstd(np.where(t[:, 2:] > 0.5, dv, np.nan), axis=1) / np.sqrt(6.0)
    baseline = np.where(t < 0.15, v, np.nan)
    plateau = np.where(t > 0.6, v, np.nan)
    dts = np.diff(t, axis=1)
    return pd.DataFrame(
        {
            "magnet_type": pd.Series(signals.magnet_type).astype(str),
            "noise_level": noise,
            "gap_fraction": np.isnan(v).mean(axis=1),
            "max_gap": _longest_nan_run(v),
            "bias": np.nanmean(baseline, axis=1),
            "sampling_jitter": dts.std(axis=1) / dts.mean(axis=1),
            "plateau_level": np.nanmean(plateau, axis=1),
        }
    )


def issue_tags(features: pd.DataFrame) -> pd.DataFrame:
    """Boolean tags ``noise``, ``gap``, ``bias``, ``sampling`` per row, from summary features.

    The lecture's error-analysis table ("signal × noise / gap / bias / wrong sampling").
    Thresholds are ``TAG_THRESHOLDS``; a missing feature gives ``False``.
    """
    num = {
        c: pd.to_numeric(features[c], errors="coerce")
        for c in ("noise_level", "max_gap", "bias", "sampling_jitter")
    }
    return pd.DataFrame(
        {
            "noise": num["noise_level"] > TAG_THRESHOLDS["noise"],
            "gap": num["max_gap"] > TAG_THRESHOLDS["gap"],
            "bias": num["bias"].abs() > TAG_THRESHOLDS["bias"],
            "sampling": num["sampling_jitter"] > TAG_THRESHOLDS["sampling"],
        },
        index=features.index,
    )


def shift_windows(
    signal: np.ndarray, *, start: int, width: int, max_shift: int, step: int = 1
) -> np.ndarray:
    """Windows of ``width`` samples around ``start``, shifted left and right by up to ``max_shift``.

    The lecture's augmentation: new examples "obtained by shifting the region left and right".
    Shifts that would leave the signal are skipped. Returns a (k, width) array, unshifted first.
    """
    if width <= 0 or max_shift < 0 or step <= 0:
        raise ValueError("width and step must be positive and max_shift non-negative")
    shifts = [0] + [s for k in range(step, max_shift + 1, step) for s in (-k, k)]
    rows = [
        signal[start + s : start + s + width]
        for s in shifts
        if start + s >= 0 and start + s + width <= len(signal)
    ]
    if not rows:
        raise ValueError(
            f"window [{start}, {start + width}) does not fit a signal of {len(signal)}"
        )
    return np.stack(rows)


def augment_by_shifting(
    values: np.ndarray,
    labels: np.ndarray,
    *,
    start: int,
    width: int,
    max_shift: int,
    step: int = 1,
    only_label: int | None = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Shifted windows of every signal (rows of ``values``) whose label is ``only_label``.

    Other signals contribute their unshifted window only. Returns (windows, labels).
    """
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    for row, y in zip(values, labels, strict=True):
        shift = max_shift if only_label is None or y == only_label else 0
        w = shift_windows(row, start=start, width=width, max_shift=shift, step=step)
        xs.append(w)
        ys.append(np.full(len(w), y))
    return np.concatenate(xs), np.concatenate(ys)


def case_control_sample(
    df: pd.DataFrame,
    target: str,
    *,
    controls_per_case: float = 5.0,
    positive: object = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """All cases (``target == positive``) and a random selection of controls.

    King & Zeng's case-control design: select on Y, keeping every rare case and
    ``controls_per_case`` controls for each (all controls when there are fewer).
    Correct predicted probabilities afterwards with ``prior_correction``.
    """
    is_case = df[target] == positive
    cases, controls = df[is_case], df[~is_case]
    n_controls = min(len(controls), round(controls_per_case * len(cases)))
    picked = controls.sample(n=n_controls, random_state=seed)
    return pd.concat([cases, picked]).sample(frac=1.0, random_state=seed)


def prior_correction(
    proba: np.ndarray, *, sample_rate: float, population_rate: float
) -> np.ndarray:
    """Probabilities from a model fitted on a case-control sample, corrected to the population.

    Rescales the odds by (τ / (1 − τ)) / (ȳ / (1 − ȳ)), τ = population rate, ȳ = sample rate.
    """
    p = np.clip(np.asarray(proba, dtype=float), 1e-12, 1 - 1e-12)
    odds = (
        p / (1 - p) * (population_rate / (1 - population_rate)) / (sample_rate / (1 - sample_rate))
    )
    return np.asarray(odds / (1 + odds), dtype=float)
