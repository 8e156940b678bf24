"""Uniformity of SBC ranks, coverage, and the verdict of one model x backend.

Ranks of one quantity over N replicates are integers in 0..L (L kept draws), discrete uniform when
the backend is calibrated. Their ECDF, evaluated at k = 0..L-1, is compared with the uniform CDF
(k + 1) / (L + 1) through a *simultaneous* confidence band from ArviZ (``harness.diagnostics.ecdf_band``:
ArviZ 0.x's "optimized" method, exact interior probability; ArviZ 1.x's simulation method, 20,000
simulations with a fixed seed), so the band holds the whole ECDF with the stated probability, not
point by point. The discrete ranks are the continuous-uniform ECDF read at those CDF values.

Family-wise error: each of the Q quantities of a model gets a band at level ``1 - alpha / Q``
(Bonferroni), so the probability that a calibrated backend fails on any quantity is at most alpha
(default 0.05). A Pearson chi-square test on binned ranks (``scipy.stats.chisquare``) is reported
alongside; it does not decide the verdict.

Verdict of a model x backend (``verdict``):

* ``inconclusive`` when more than 5% of the replicates failed (an error, a timeout, or fewer than L
  near-independent draws) or fewer than ``MIN_REPLICATES`` successful fits remain;
* ``fail`` when any quantity's ECDF leaves its band;
* ``pass`` otherwise.

It is computed twice: on all successful fits and on the divergence-free ones (a fit with any
divergent transition left out; the fraction left out is reported). Leaving out fits by a rule that
depends only on the data and the sampler keeps calibrated ranks uniform, but the verdict then says
nothing about the data sets left out, hence the 5% rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from harness import diagnostics

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


@dataclass
class QuantityStats:
    """Uniformity of one quantity's ranks (N replicates)."""

    quantity: str
    n: int
    in_band: bool
    max_ecdf_diff: float
    chi2: float
    chi2_p: float
    coverage: dict[float, float] = field(default_factory=dict)


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
        out.append(QuantityStats(
            quantity=name,
            n=n,
            in_band=in_band(r, kept, prob),
            max_ecdf_diff=float(np.max(np.abs(ecdf(r, kept) - uniform_cdf(kept)))),
            chi2=chi2,
            chi2_p=p,
            coverage={lvl: coverage(r, kept, lvl)[0] for lvl in COVERAGE_LEVELS},
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
