"""Uniformity of SBC ranks, coverage, and the verdict of one model x backend.

Ranks of one quantity over N replicates are integers in 0..L (L kept draws), discrete uniform when
the backend is calibrated. Their ECDF, evaluated at k = 0..L-1, is compared with the uniform CDF
(k + 1) / (L + 1) through a *simultaneous* confidence band from ArviZ (``harness.diagnostics.ecdf_band``:
ArviZ 0.x's "optimized" method, exact interior probability; ArviZ 1.x's simulation method, 20,000
simulations with a fixed seed), so the band holds the whole ECDF with the stated probability, not
point by point. The discrete ranks are the continuous-uniform ECDF read at those CDF values.

The test of one quantity (``rank_test``): the statistic is the smallest pointwise two-sided binomial
tail probability of the ECDF, ``S = min_k 2 min(F_k(C_k), 1 - F_k(C_k - 1))``, with ``C_k`` the number
of ranks <= k and ``F_k`` the Binomial(N, (k + 1) / (L + 1)) CDF. It is the statistic behind the
"optimized" simultaneous ECDF band (Saeilynoja et al. 2022): the ECDF leaves the band of level
1 - a exactly when S falls below the band's pointwise level. Its p-value P(S <= s_obs) under uniform
ranks is computed *exactly* (no simulation): the counts C_0, C_1, ... form a Markov chain
(C_k - C_{k-1} is binomial given C_{k-1}), so the probability of staying inside a band is a product
of banded binomial transition matrices (``stay_probability``). The same recursion with the rank
probabilities of a shifted posterior gives the exact power (``harness.sbc.power``).

Family-wise error of one model x backend: Bonferroni over its Q quantities, p = min(1, Q min_q p_q);
the combination is *flagged* when p < alpha (default 0.05), so a calibrated backend is flagged with
probability at most alpha. Across a run, ``harness.sbc.summary`` controls the error of final ``fail``
verdicts with a confirmation stage on fresh data and Holm's procedure (see there). A Pearson
chi-square test on binned ranks (``scipy.stats.chisquare``) is reported alongside; it decides nothing.

First-stage verdict of a model x backend (``verdict``):

* ``inconclusive`` when more than 5% of the replicates failed (an error, a timeout, or fewer than L
  near-independent draws) or fewer than ``MIN_REPLICATES`` successful fits remain;
* ``fail`` (a *flag*: not final until confirmed) when p < alpha;
* ``pass`` otherwise.

The divergence-free verdict is a diagnostic only: it is computed on the fits without divergences,
and the fits it leaves out count as failed fits under the 5% rule, because dropping fits by a
sampler-dependent criterion does not keep ranks uniform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import stats

from harness import diagnostics
from harness.stats import holm  # noqa: F401 (the SBC verdicts' Holm; re-exported)

DEFAULT_ALPHA = 0.05
MAX_FAILED_FRAC = 0.05
MIN_REPLICATES = 20
COVERAGE_LEVELS = (0.5, 0.8, 0.95)


ecdf_band = diagnostics.ecdf_band


def ecdf(ranks: np.ndarray, kept: int) -> np.ndarray:
    """ECDF of ranks (N,) at k = 0..kept-1: fraction of ranks <= k, shape (kept,)."""
    counts = np.bincount(np.asarray(ranks, dtype=int), minlength=kept + 1)
    return np.cumsum(counts)[:kept] / len(ranks)


def uniform_cdf(kept: int) -> np.ndarray:
    """CDF of the discrete uniform on 0..kept at k = 0..kept-1, shape (kept,)."""
    return (np.arange(kept) + 1) / (kept + 1)


def in_band(ranks: np.ndarray, kept: int, prob: float) -> bool:
    """Whether the ECDF of ``ranks`` stays inside its simultaneous ``prob`` band (bounds inclusive)."""
    n = len(ranks)
    lower, upper = ecdf_band(n, kept, prob)
    counts = np.rint(ecdf(ranks, kept) * n)
    return bool(np.all(counts >= np.rint(lower * n)) and np.all(counts <= np.rint(upper * n)))


def chi_square(ranks: np.ndarray, kept: int) -> tuple[float, float, int]:
    """Pearson chi-square of ranks binned into groups of neighbouring rank values.

    Bins: the largest number <= 20 that divides L + 1 and leaves >= 5 expected ranks per bin (at
    least 2); when L + 1 has no such divisor, nearly equal bins with matching expected counts.
    Returns (statistic, p-value, bins).
    """
    ranks = np.asarray(ranks, dtype=int)
    n, values = len(ranks), kept + 1
    limit = max(2, min(20, n // 5, values))
    divisors = [b for b in range(2, limit + 1) if values % b == 0]
    bins = divisors[-1] if divisors else limit
    groups = np.array_split(np.arange(values), bins)
    counts = np.bincount(ranks, minlength=values)
    observed = np.array([counts[g].sum() for g in groups], dtype=float)
    expected = np.array([n * len(g) / values for g in groups])
    result = stats.chisquare(observed, expected)
    return float(result.statistic), float(result.pvalue), bins


def coverage(ranks: np.ndarray, kept: int, level: float) -> tuple[float, float]:
    """Observed and expected coverage of the central ``level`` interval of the kept draws.

    The interval runs from the a-th to the (L + 1 - a)-th smallest of the L draws,
    a = round((L + 1)(1 - level) / 2); the true value lies inside iff a <= rank <= L - a. Under
    calibration that happens with probability 1 - 2a / (L + 1), exactly ``level`` when
    (L + 1)(1 - level) / 2 is a whole number (L = 39: a = 10, 4, 1 for 50, 80, 95%).
    """
    ranks = np.asarray(ranks)
    a = int(round((kept + 1) * (1.0 - level) / 2.0))
    inside = (ranks >= a) & (ranks <= kept - a)
    return float(np.mean(inside)), 1.0 - 2.0 * a / (kept + 1)


# ---------------------------------------------------------------- the exact test


def pointwise_tails(n: int, kept: int) -> np.ndarray:
    """t[k, c] = min(1, 2 min(F_k(c), 1 - F_k(c - 1))), F_k the Binomial(n, (k+1)/(kept+1)) CDF; (kept, n+1)."""
    return _pointwise_tails(int(n), int(kept))


@lru_cache(maxsize=64)
def _pointwise_tails(n: int, kept: int) -> np.ndarray:
    c = np.arange(n + 1)[None, :]
    p = ((np.arange(kept) + 1) / (kept + 1))[:, None]
    lower = stats.binom.cdf(c, n, p)
    upper = stats.binom.sf(c - 1, n, p)
    out = np.minimum(1.0, 2.0 * np.minimum(lower, upper))
    out.setflags(write=False)
    return out


def statistic(ranks: np.ndarray, kept: int) -> float:
    """S = min over k of the pointwise two-sided tail probability of the ECDF count C_k."""
    ranks = np.asarray(ranks, dtype=int)
    n = len(ranks)
    counts = np.cumsum(np.bincount(ranks, minlength=kept + 1))[:kept]
    return float(pointwise_tails(n, kept)[np.arange(kept), counts].min())


def stay_probability(allowed: np.ndarray, cell_probs: np.ndarray) -> float:
    """P(C_k in allowed[k] for every k) for n ranks with P(rank = r) = cell_probs[r].

    allowed: (kept, n + 1) bool; cell_probs: (kept + 1,). C_k = #ranks <= k; given C_{k-1} = c,
    C_k - c ~ Binomial(n - c, cell_probs[k] / (1 - sum_{j<k} cell_probs[j])).
    """
    kept, width = allowed.shape
    n = width - 1
    cell_probs = np.asarray(cell_probs, dtype=np.float64)
    v = np.zeros(width)
    v[0] = 1.0
    used = 0.0
    for k in range(kept):
        rest = 1.0 - used
        q = 1.0 if rest <= 0 else min(1.0, max(0.0, cell_probs[k] / rest))
        used += cell_probs[k]
        src = np.flatnonzero(v > 0)
        dst = np.flatnonzero(allowed[k])
        if src.size == 0 or dst.size == 0:
            return 0.0
        step = dst[None, :] - src[:, None]
        trans = stats.binom.pmf(step, (n - src)[:, None], q)
        v_new = np.zeros(width)
        v_new[dst] = v[src] @ trans
        v = v_new
    return float(min(1.0, v.sum()))


def uniform_cells(kept: int) -> np.ndarray:
    return np.full(kept + 1, 1.0 / (kept + 1))


def p_value_of_statistic(s_obs: float, n: int, kept: int) -> float:
    """Exact P(S <= s_obs) for n uniform ranks in 0..kept."""
    if n == 0 or not np.isfinite(s_obs):
        return float("nan")
    allowed = pointwise_tails(n, kept) > s_obs * (1.0 + 1e-12)
    return float(min(1.0, max(0.0, 1.0 - stay_probability(allowed, uniform_cells(kept)))))


def rank_test(ranks: np.ndarray, kept: int) -> float:
    """Exact p-value of the uniformity test of one quantity's ranks (see the module docstring)."""
    return p_value_of_statistic(statistic(ranks, kept), len(ranks), kept)


def critical_value(n: int, kept: int, level: float) -> float:
    """The largest attainable s with P(S <= s) <= level: reject when S <= it (exact; cached)."""
    return _critical_value(int(n), int(kept), round(float(level), 12))


@lru_cache(maxsize=512)
def _critical_value(n: int, kept: int, level: float) -> float:
    values = np.unique(pointwise_tails(n, kept))
    lo, hi = -1, len(values) - 1  # P(S <= values[lo]) <= level < P(S <= values[hi]) (lo = -1: none)
    if p_value_of_statistic(values[hi], n, kept) <= level:
        return float(values[hi])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if p_value_of_statistic(values[mid], n, kept) <= level:
            lo = mid
        else:
            hi = mid
    return float(values[lo]) if lo >= 0 else -1.0


@dataclass
class QuantityStats:
    """Uniformity of one quantity's ranks (N replicates)."""

    quantity: str
    n: int
    in_band: bool           # p_value >= alpha / Q: inside the simultaneous band of level 1 - alpha / Q
    max_ecdf_diff: float
    chi2: float
    chi2_p: float
    coverage: dict[float, float] = field(default_factory=dict)
    p_value: float = float("nan")  # exact p-value of the uniformity test (``rank_test``)


@dataclass
class Assessment:
    """All quantities of one model x backend on one set of fits; ``prob`` is each band's level."""

    n: int
    prob: float
    quantities: list[QuantityStats]

    @property
    def failed_quantities(self) -> list[str]:
        return [q.quantity for q in self.quantities if not q.in_band]

    def mean_coverage(self, level: float) -> float:
        values = [q.coverage[level] for q in self.quantities]
        return float(np.mean(values)) if values else float("nan")

    @property
    def p_value(self) -> float:
        """Bonferroni p-value of the model x backend: min(1, Q x smallest quantity p-value)."""
        values = [q.p_value for q in self.quantities if np.isfinite(q.p_value)]
        return min(1.0, len(self.quantities) * min(values)) if values else float("nan")

    @property
    def chi2_min_p(self) -> float:
        return min((q.chi2_p for q in self.quantities), default=float("nan"))


def band_prob(alpha: float, n_quantities: int) -> float:
    """Per-quantity band level so that the family of ``n_quantities`` bands has error <= alpha."""
    return 1.0 - alpha / max(1, n_quantities)


def assess(ranks: np.ndarray, names: list[str], kept: int, alpha: float = DEFAULT_ALPHA) -> Assessment:
    """Uniformity of every quantity: ranks (N, Q) integers in 0..kept, names (Q,)."""
    ranks = np.asarray(ranks, dtype=int).reshape(-1, len(names))
    n = ranks.shape[0]
    prob = band_prob(alpha, len(names))
    out = []
    for j, name in enumerate(names):
        r = ranks[:, j]
        if n == 0:
            out.append(QuantityStats(name, 0, True, float("nan"), float("nan"), float("nan"),
                                     {lvl: float("nan") for lvl in COVERAGE_LEVELS}))
            continue
        chi2, p, _ = chi_square(r, kept)
        p_exact = rank_test(r, kept)
        out.append(QuantityStats(
            quantity=name,
            n=n,
            in_band=bool(p_exact >= 1.0 - prob),
            max_ecdf_diff=float(np.max(np.abs(ecdf(r, kept) - uniform_cdf(kept)))),
            chi2=chi2,
            chi2_p=p,
            coverage={lvl: coverage(r, kept, lvl)[0] for lvl in COVERAGE_LEVELS},
            p_value=p_exact,
        ))
    return Assessment(n, prob, out)


def verdict(sims: int, failed: int, assessment: Assessment, min_replicates: int = MIN_REPLICATES) -> tuple[str, str]:
    """(verdict, reason): "inconclusive", "fail" or "pass"; see the module docstring."""
    if sims == 0:
        return "inconclusive", "no replicates"
    if failed / sims > MAX_FAILED_FRAC:
        return "inconclusive", f"{failed}/{sims} fits failed (> {MAX_FAILED_FRAC:.0%})"
    if assessment.n < min_replicates:
        return "inconclusive", f"{assessment.n} usable fits (< {min_replicates})"
    failed_q = assessment.failed_quantities
    if failed_q:
        return "fail", "ranks not uniform: " + ", ".join(failed_q)
    return "pass", ""
