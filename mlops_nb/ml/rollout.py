"""Canary rollout: stable hash routing and a cumulative, one-sided two-proportion decision.

A naive per-batch rule ("roll back if the canary's error rate exceeds the champion's by 0.02")
rolled back a better model on 1 error in 16 samples: a single batch is noise. Here every batch
adds to cumulative counts; no decision is taken before both arms have ``min_samples`` rows, and
then only when a one-sided two-proportion z-test is significant at ``alpha`` divided by the number
of looks (Bonferroni: testing after every batch must not multiply the false alarms).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

Decision = Literal["promote", "rollback", "continue"]


def route(keys: Iterable[Any], fraction: float, *, salt: str = "canary") -> np.ndarray:
    """Boolean mask: which rows go to the challenger, by a stable hash of their key.

    Row ``k`` goes to the challenger when ``sha256(salt:k)``, read as a number in [0, 1), is below
    ``fraction``. The same key always takes the same route (in every batch, process and Python
    version: no ``hash()`` randomization), and raising ``fraction`` only adds rows to the canary.
    Hash-based assignment of units to experiment arms as in Tang et al., "Overlapping Experiment
    Infrastructure" (KDD 2010, section 4). ``fraction`` must lie in [0, 1] (``ValueError``).
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    out = []
    for key in keys:
        digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
        out.append(int.from_bytes(digest[:8], "big") / 2.0**64 < fraction)
    return np.asarray(out, dtype=bool)


def two_proportion_z(
    x1: int, n1: int, x2: int, n2: int, *, alternative: Literal["larger", "smaller"] = "larger"
) -> tuple[float, float]:
    """(z, one-sided p-value) of H0: p1 = p2 against p1 > p2 (``larger``) or p1 < p2.

    Pooled-variance z statistic ``(x1/n1 - x2/n2) / sqrt(p(1-p)(1/n1 + 1/n2))`` with
    ``p = (x1+x2)/(n1+n2)``: the large-sample test of two proportions (the same as statsmodels'
    ``proportions_ztest([x1, x2], [n1, n2], alternative=...)``). Equal pooled rates of 0 or 1
    give z = 0, p = 0.5 (no evidence either way). ``ValueError`` for empty samples.
    """
    from scipy.stats import norm

    if n1 <= 0 or n2 <= 0:
        raise ValueError(f"both samples need rows (n1={n1}, n2={n2})")
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = 0.0 if se == 0 else (x1 / n1 - x2 / n2) / se
    p = float(norm.sf(z) if alternative == "larger" else norm.cdf(z))
    return z, p


@dataclass(frozen=True)
class CanaryRule:
    """When to decide: both arms have ``min_samples`` rows and the test is significant."""

    alpha: float = 0.05
    min_samples: int = 100
    looks: int = 1  # planned number of tests (batches): each uses alpha / looks


def decide(
    challenger_errors: int,
    challenger_n: int,
    champion_errors: int,
    champion_n: int,
    rule: CanaryRule = CanaryRule(),
) -> tuple[Decision, float, float]:
    """(decision, p-value worse, p-value better) from cumulative error counts.

    ``rollback`` when the challenger's error rate is significantly higher, ``promote`` when it is
    significantly lower, ``continue`` otherwise or while an arm has fewer than ``min_samples``.
    """
    if min(challenger_n, champion_n) < rule.min_samples:
        return "continue", math.nan, math.nan
    level = rule.alpha / max(1, rule.looks)
    _, p_worse = two_proportion_z(challenger_errors, challenger_n, champion_errors, champion_n)
    _, p_better = two_proportion_z(
        challenger_errors, challenger_n, champion_errors, champion_n, alternative="smaller"
    )
    if p_worse < level:
        return "rollback", p_worse, p_better
    if p_better < level:
        return "promote", p_worse, p_better
    return "continue", p_worse, p_better


def canary_table(
    batch: Iterable[int],
    to_challenger: Iterable[bool],
    error: Iterable[bool],
    rule: CanaryRule = CanaryRule(),
) -> pd.DataFrame:
    """One row per batch: rows and errors per arm (cumulative), error rates, p-values, decision.

    Inputs are per row: its batch number, whether it was routed to the challenger, and whether
    the model that served it was wrong. The first decisive batch's decision holds from then on
    (the rollout stops there); ``final_decision(table)`` reads it.
    """
    df = pd.DataFrame({"batch": list(batch), "canary": list(to_challenger), "error": list(error)})
    rows = []
    counts = {True: [0, 0], False: [0, 0]}  # arm -> [n, errors]
    decided: Decision = "continue"
    for number, part in df.groupby("batch", sort=True):
        for arm in (True, False):
            served = part[part["canary"] == arm]
            counts[arm][0] += len(served)
            counts[arm][1] += int(served["error"].sum())
        (nc, ec), (nb, eb) = counts[True], counts[False]
        now, p_worse, p_better = decide(ec, nc, eb, nb, rule)
        if decided == "continue":
            decided = now
        rows.append(
            {
                "batch": number,
                "challenger_n": nc,
                "challenger_errors": ec,
                "champion_n": nb,
                "champion_errors": eb,
                "challenger_error_rate": ec / nc if nc else math.nan,
                "champion_error_rate": eb / nb if nb else math.nan,
                "p_worse": p_worse,
                "p_better": p_better,
                "decision": decided,
            }
        )
    return pd.DataFrame(rows).set_index("batch")


def final_decision(table: pd.DataFrame) -> Decision:
    """The rollout's decision: that of the last batch (``continue`` for no batch)."""
    return "continue" if table.empty else table["decision"].iloc[-1]


def naive_decision(
    challenger_errors: int, challenger_n: int, champion_errors: int, champion_n: int, margin: float
) -> Decision:
    """The rule not to use, for comparison: roll back when the canary's error rate exceeds the
    champion's by ``margin`` on this batch alone (FACTS: it rolled back a better model on 1
    error in 16)."""
    if challenger_n == 0 or champion_n == 0:
        return "continue"
    worse = challenger_errors / challenger_n - champion_errors / champion_n > margin
    return "rollback" if worse else "promote"
