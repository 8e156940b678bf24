"""Is a timing worse in NEW than in BASELINE? Pure functions over samples of repeats.

Timings on a shared or virtual machine are noisy, skewed and, with a millisecond clock (Stan),
tied. A regression needs two things:

* an effect worth acting on: the ratio of medians is past ``factor`` (default 1.1, i.e. 10 % slower);
* evidence that it is not noise: an **exact permutation test** of the rank sum (the Mann-Whitney U
  statistic with mid-ranks for ties), one-sided, NEW worse than BASELINE, with p < ``alpha``
  (default 0.003). The p-value is the share of all C(n_b + n_n, n_n) ways to split the pooled
  values into the two groups whose rank sum is at least the observed one, so it is exact with or
  without ties (no normal approximation). Beyond ``EXACT_MAX_SPLITS`` splits (more than 10 repeats
  a side) a fixed-seed random sample of ``MONTE_CARLO_SPLITS`` splits stands in for the whole set.

Sizing. At 6 repeats a side there are 924 splits. The rejection region p < 0.003 is then the
complete separation (p = 1/924 = 0.0011) and the complete separation with one tie or one swap at
the boundary (p = 2/924 = 0.0022). So:

* false-alarm rate per metric (identical distributions, no ties): 2/924 = 0.22 % before the ratio
  gate, which only lowers it;
* power: a slowdown is caught when it separates the two samples (one tie or swap allowed); the
  *minimum detectable ratio* (``min_detectable_ratio``) is the ratio caught with 80 % probability
  given the spread seen in the run (pooled standard deviation of the log values, lognormal noise).

With fewer repeats no outcome reaches p < alpha (the smallest attainable p, 1/C(n_b + n_n, n_n),
is 1/252 at 5 vs 5), so the comparison is **advisory**: computed, shown, never failing.
``repeats_needed(alpha)`` is the smallest equal number of repeats a side for a decisive test.

``higher_is_better`` turns the direction round (ESS/s: lower is worse). The same rule with the
sides swapped reports an improvement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np
from scipy.stats import rankdata

DEFAULT_FACTOR = 1.1
DEFAULT_ALPHA = 0.003
POWER = 0.8
EXACT_MAX_SPLITS = 200_000
MONTE_CARLO_SPLITS = 20_000

RULE_PERMUTATION = "permutation"
RULE_ADVISORY = "advisory"
RULE_NONE = "none"


def min_attainable_p(n_base: int, n_new: int) -> float:
    """The smallest one-sided p of the exact rank test: one split in C(n_b + n_n, n_n)."""
    if n_base < 1 or n_new < 1:
        return 1.0
    return 1.0 / math.comb(n_base + n_new, n_new)


def decisive(n_base: int, n_new: int, alpha: float = DEFAULT_ALPHA) -> bool:
    """Whether any outcome of ``n_base`` vs ``n_new`` repeats can reach p < alpha."""
    return min_attainable_p(n_base, n_new) < alpha


def repeats_needed(alpha: float = DEFAULT_ALPHA) -> int:
    """The smallest n with a decisive n vs n test (6 at alpha 0.003, 5 at 0.005, 4 at 0.02)."""
    n = 1
    while not decisive(n, n, alpha):
        n += 1
    return n


MIN_REPEATS_FOR_TEST = repeats_needed(DEFAULT_ALPHA)


@lru_cache(maxsize=64)
def _splits(n_total: int, n_new: int) -> tuple[np.ndarray, bool]:
    """(splits x n_total) 0/1 matrix of the NEW group's members, and whether it is every split."""
    count = math.comb(n_total, n_new)
    if count <= EXACT_MAX_SPLITS:
        masks = np.zeros((count, n_total), dtype=np.float64)
        for i, members in enumerate(combinations(range(n_total), n_new)):
            masks[i, list(members)] = 1.0
        return masks, True
    rng = np.random.default_rng(20240601)
    picked = np.argsort(rng.random((MONTE_CARLO_SPLITS, n_total)), axis=1)[:, :n_new]
    masks = np.zeros((MONTE_CARLO_SPLITS, n_total), dtype=np.float64)
    np.put_along_axis(masks, picked, 1.0, axis=1)
    return masks, False


def rank_test_p(base, new, alternative: str = "greater") -> float:
    """One-sided exact permutation p of the rank sum of ``new`` (ties get mid-ranks).

    ``greater``: NEW tends to be larger than BASELINE. Same as ``scipy.stats.permutation_test``
    of the rank sum with ``permutation_type="independent"`` and exhaustive enumeration.
    """
    base, new = _clean(base), _clean(new)
    if len(base) == 0 or len(new) == 0:
        return math.nan
    pooled = np.concatenate([base, new])
    ranks = rankdata(pooled)
    observed = ranks[len(base):].sum()
    masks, exact = _splits(len(pooled), len(new))
    dist = masks @ ranks
    if alternative == "greater":
        hits = int(np.sum(dist >= observed - 1e-9))
    elif alternative == "less":
        hits = int(np.sum(dist <= observed + 1e-9))
    else:
        raise ValueError(f"alternative must be 'greater' or 'less', got {alternative!r}")
    return hits / len(dist) if exact else (hits + 1) / (len(dist) + 1)


@lru_cache(maxsize=64)
def _detectable_shift(n_base: int, n_new: int, alpha: float, power: float = POWER) -> float:
    """Shift of the NEW log values, in standard deviations, that the test detects with ``power``.

    Simulated (fixed seed) under normal noise of the log values: the rank test's power depends on
    the shift over the spread only. inf when the design cannot reach alpha at all.
    """
    if not decisive(n_base, n_new, alpha):
        return math.inf
    masks, _ = _splits(n_base + n_new, n_new)
    if len(masks) > 5000:
        masks = masks[:5000]
    rng = np.random.default_rng(7)
    sims = 400
    z_base, z_new = rng.normal(size=(sims, n_base)), rng.normal(size=(sims, n_new))
    last = 0.0
    for shift in np.arange(0.0, 12.0, 0.05):
        ranks = rankdata(np.concatenate([z_base, z_new + shift], axis=1), axis=1)
        observed = ranks[:, n_base:].sum(axis=1)
        p = np.mean((ranks @ masks.T) >= observed[:, None] - 1e-9, axis=1)
        hit = float(np.mean(p < alpha))
        if hit >= power:
            # linear interpolation between the last grid point and this one
            return float(shift - 0.05 * (hit - power) / max(hit - last, 1e-9))
        last = hit
    return math.inf


def min_detectable_ratio(base, new, factor: float = DEFAULT_FACTOR, alpha: float = DEFAULT_ALPHA,
                         power: float = POWER) -> float:
    """The slowdown (ratio > 1) that this design flags with probability ``power``.

    From the spread seen in the run: the pooled standard deviation of the log values of both
    sides, assuming lognormal noise; never below ``factor`` (the ratio gate). inf when the repeats
    are too few for a decisive test, nan when the values cannot be logged.
    """
    base, new = _clean(base), _clean(new)
    if len(base) < 2 or len(new) < 2 or np.any(base <= 0) or np.any(new <= 0):
        return math.nan
    shift = _detectable_shift(len(base), len(new), alpha, power)
    if not math.isfinite(shift):
        return math.inf
    lb, ln = np.log(base), np.log(new)
    pooled = math.sqrt(((len(lb) - 1) * lb.var(ddof=1) + (len(ln) - 1) * ln.var(ddof=1)) / (len(lb) + len(ln) - 2))
    return max(factor, math.exp(shift * pooled))


@dataclass(frozen=True)
class TimingResult:
    regression: bool
    improvement: bool
    ratio: float          # > 1 means NEW is worse (slower, or fewer ESS/s), whatever the direction
    p_value: float        # one-sided exact p of "NEW worse"
    rule: str             # RULE_PERMUTATION, RULE_ADVISORY (too few repeats) or RULE_NONE (no data)
    n_base: int
    n_new: int
    base_median: float
    new_median: float
    detail: str
    detectable: float = math.nan   # minimum detectable ratio at these repeats and this spread

    @property
    def advisory(self) -> bool:
        return self.rule == RULE_ADVISORY


def _clean(samples) -> np.ndarray:
    arr = np.asarray(list(samples), dtype=float).reshape(-1)
    return arr[np.isfinite(arr)]


def timing_test(base_samples, new_samples, factor: float = DEFAULT_FACTOR, alpha: float = DEFAULT_ALPHA,
                higher_is_better: bool = False) -> TimingResult:
    """Compare two samples of one timing metric; see the module docstring for the rule."""
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
    p_worse, p_better = rank_test_p(base, new, worse_alt), rank_test_p(base, new, better_alt)
    detectable = min_detectable_ratio(base, new, factor, alpha)
    p_shown = p_worse if ratio >= 1 else p_better
    if ratio >= 1:
        detail = f"x{ratio:.3g} worse"
    else:  # a zero median (e.g. CPU seconds below the clock's 10 ms tick) is infinitely better
        detail = f"x{1 / ratio:.3g} better" if ratio > 0 else "better (zero)"
    if decisive(nb, nn, alpha):
        regression = ratio > factor and p_worse < alpha
        improvement = ratio < 1.0 / factor and p_better < alpha
        detail += f", exact rank test p={p_shown:.2g} (n={nb}/{nn})"
        return TimingResult(regression, improvement, ratio, p_worse, RULE_PERMUTATION, nb, nn, mb, mn, detail,
                            detectable)
    detail += (f", p={p_shown:.2g}; advisory: n={nb}/{nn} cannot reach p<{alpha:g} "
               f"(smallest p {min_attainable_p(nb, nn):.2g}; {repeats_needed(alpha)}+ repeats a side decide)")
    return TimingResult(False, False, ratio, p_worse, RULE_ADVISORY, nb, nn, mb, mn, detail, detectable)


