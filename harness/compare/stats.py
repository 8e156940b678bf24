"""Is a timing worse in NEW than in BASELINE? Pure functions over samples of repeats.

Timings on a shared or virtual machine are noisy and skewed, so a regression needs two things:

* an effect worth acting on: the ratio of medians is past ``factor`` (default 1.1, i.e. 10 % slower);
* evidence that it is not noise:
  - with at least ``MIN_REPEATS_FOR_TEST`` (6) repeats per side, a one-sided Mann-Whitney U test
    (NEW stochastically slower than BASELINE) with p < ``alpha`` (default 0.002). Six per side is
    the smallest design where that p is reachable at all: the exact one-sided p of a complete
    separation of 6 vs 6 is 1/924 = 0.00108;
  - with fewer repeats the test cannot reach that p, so the rule falls back to non-overlapping
    ranges (every NEW value worse than every BASELINE value) and the detail says so.

``higher_is_better`` turns the direction round (ESS/s: lower is worse). The same rules with the
sides swapped report an improvement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import mannwhitneyu

DEFAULT_FACTOR = 1.1
DEFAULT_ALPHA = 0.002
MIN_REPEATS_FOR_TEST = 6

RULE_MWU = "mann-whitney"
RULE_RANGES = "ranges"
RULE_NONE = "none"


@dataclass(frozen=True)
class TimingResult:
    regression: bool
    improvement: bool
    ratio: float          # > 1 means NEW is worse (slower, or fewer ESS/s), whatever the direction
    p_value: float        # one-sided p of "NEW worse" (nan when the range rule was used)
    rule: str             # RULE_MWU, RULE_RANGES or RULE_NONE (no data)
    n_base: int
    n_new: int
    base_median: float
    new_median: float
    detail: str


def _clean(samples) -> np.ndarray:
    arr = np.asarray(list(samples), dtype=float).reshape(-1)
    return arr[np.isfinite(arr)]


def timing_test(base_samples, new_samples, factor: float = DEFAULT_FACTOR, alpha: float = DEFAULT_ALPHA,
                higher_is_better: bool = False, min_repeats: int = MIN_REPEATS_FOR_TEST) -> TimingResult:
    """Compare two samples of one timing metric; see the module docstring for the rules."""
    if not factor >= 1.0:
        raise ValueError(f"factor must be >= 1, got {factor}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    base, new = _clean(base_samples), _clean(new_samples)
    nb, nn = len(base), len(new)
    if nb == 0 or nn == 0:
        return TimingResult(False, False, math.nan, math.nan, RULE_NONE, nb, nn, math.nan, math.nan,
                            f"not compared: no values (n={nb}/{nn})")
    mb, mn = float(np.median(base)), float(np.median(new))
    # "worse" ratio: > 1 when NEW is worse in this metric's direction
    if higher_is_better:
        ratio = mb / mn if mn > 0 else (math.inf if mb > 0 else 1.0)
    else:
        ratio = mn / mb if mb > 0 else (math.inf if mn > 0 else 1.0)
    worse_alt, better_alt = ("less", "greater") if higher_is_better else ("greater", "less")
    if nb >= min_repeats and nn >= min_repeats:
        if np.all(base == base[0]) and np.all(new == base[0]):
            p_worse = p_better = 1.0  # identical constant samples: mannwhitneyu cannot rank them
        else:
            p_worse = float(mannwhitneyu(new, base, alternative=worse_alt).pvalue)
            p_better = float(mannwhitneyu(new, base, alternative=better_alt).pvalue)
        regression = ratio > factor and p_worse < alpha
        improvement = ratio < 1.0 / factor and p_better < alpha
        p_shown = p_worse if ratio >= 1 else p_better
        detail = f"x{ratio:.3g} worse" if ratio >= 1 else f"x{1 / ratio:.3g} better"
        detail += f", U test p={p_shown:.2g} (n={nb}/{nn})"
        return TimingResult(regression, improvement, ratio, p_worse, RULE_MWU, nb, nn, mb, mn, detail)
    if higher_is_better:
        separated_worse, separated_better = new.max() < base.min(), new.min() > base.max()
    else:
        separated_worse, separated_better = new.min() > base.max(), new.max() < base.min()
    regression = ratio > factor and bool(separated_worse)
    improvement = ratio < 1.0 / factor and bool(separated_better)
    overlap = "ranges do not overlap" if (separated_worse or separated_better) else "ranges overlap"
    detail = f"x{ratio:.3g} worse" if ratio >= 1 else f"x{1 / ratio:.3g} better"
    detail += f", {overlap} (fallback: n={nb}/{nn} < {min_repeats} repeats, no U test)"
    return TimingResult(regression, improvement, ratio, math.nan, RULE_RANGES, nb, nn, mb, mn, detail)


def timing_verdict(base_samples, new_samples, factor: float = DEFAULT_FACTOR, alpha: float = DEFAULT_ALPHA,
                   higher_is_better: bool = False) -> tuple[bool, str]:
    """(is a regression, detail naming the rule used): see ``timing_test``."""
    result = timing_test(base_samples, new_samples, factor, alpha, higher_is_better)
    return result.regression, result.detail
