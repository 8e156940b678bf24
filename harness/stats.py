"""Small statistical rules several verdicts share: Holm's step-down adjustment, binomial intervals and
the one-sided exact comparison of two rates. scipy does the distributions; these are the rules."""

from __future__ import annotations

import numpy as np


def holm(p_values) -> list[float]:
    """Holm-adjusted p-values (step-down, monotone): reject H_i at family level alpha iff adjusted_i < alpha.

    Controls the family-wise error rate at alpha for any dependence between the tests, and rejects at
    least what Bonferroni rejects. Non-finite p-values are left out of the family (and stay NaN).
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for i, idx in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[idx]))
        out[idx] = running
    return out.tolist()


def rate_interval(events: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact) interval of a binomial rate; (0, 1) without trials."""
    from scipy import stats

    if trials <= 0:
        return 0.0, 1.0
    alpha = 1.0 - level
    lo = 0.0 if events == 0 else float(stats.beta.ppf(alpha / 2, events, trials - events + 1))
    hi = 1.0 if events == trials else float(stats.beta.ppf(1 - alpha / 2, events + 1, trials - events))
    return lo, hi


def higher_by_units(units_a: list[float], units_b: list[float]) -> float:
    """One-sided p-value that the rates of units a (chains or runs) exceed those of units b: the
    Mann-Whitney U test (``scipy.stats.mannwhitneyu``); 1.0 where it cannot tell (no units, or all equal).
    With 4 units a side its smallest p is 1/70; with 12 a side, below 1e-6."""
    from scipy import stats

    if not units_a or not units_b or len(set(units_a) | set(units_b)) < 2:
        return 1.0
    return float(stats.mannwhitneyu(units_a, units_b, alternative="greater").pvalue)
