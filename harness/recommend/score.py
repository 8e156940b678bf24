"""Ranking with intervals: distribution-free intervals for the median over repeats, and ranks that tie
backends whose intervals overlap."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

INTERVAL_LEVEL = 0.95
TARGET_ESS = 1000


@dataclass
class Candidate:
    """A ranked backend: its medians over runs, their intervals, and what it still lacks."""

    backend: str
    runs: int
    ess_per_s: float
    time_to_target_s: float
    compile_s: float
    warmup_s: float
    sampling_per_target_s: float
    warnings: list[str] = field(default_factory=list)
    cache: str = ""  # e.g. "3/3 cached": how many runs compiled from a warm cache
    ess_per_s_interval: tuple[float, float] = (math.nan, math.nan)
    time_interval: tuple[float, float] = (math.nan, math.nan)
    interval_coverage: float = math.nan
    accuracy: str = ""
    sbc: str = ""
    divergence: str = ""
    missing: list[str] = field(default_factory=list)  # evidence not there yet ("not validated: no SBC")
    commands: list[str] = field(default_factory=list)  # what completes it

    @property
    def validated(self) -> bool:
        return not self.missing


def median_interval(values, level: float = INTERVAL_LEVEL) -> tuple[float, float, float]:
    """(low, high, coverage) of a distribution-free interval for the median of ``values``.

    [x_(j), x_(n+1-j)] covers the median with probability 1 - 2 P(Binomial(n, 1/2) <= j - 1); the
    largest j reaching ``level`` is used, else j = 1 (min and max) with its lower coverage.
    """
    from scipy import stats

    x = np.sort(np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float))
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    if n == 1:
        return float(x[0]), float(x[0]), 0.0
    best = 1
    for j in range(1, n // 2 + 1):
        if 1.0 - 2.0 * stats.binom.cdf(j - 1, n, 0.5) >= level:
            best = j
    coverage = 1.0 - 2.0 * stats.binom.cdf(best - 1, n, 0.5)
    return float(x[best - 1]), float(x[n - best]), float(coverage)


def interval_ranks(intervals: list[tuple[float, float]], higher_is_better: bool) -> list[int]:
    """1 + the number of others whose interval lies entirely on the better side: overlaps share a rank."""
    out = []
    for lo, hi in intervals:
        if higher_is_better:
            better = sum(1 for o_lo, _ in intervals if o_lo > hi)
        else:
            better = sum(1 for _, o_hi in intervals if o_hi < lo)
        out.append(1 + better)
    return out


def candidate(backend: str, ok: pd.DataFrame, target_ess: int) -> Candidate:
    """A backend's medians and intervals over its ok runs (ESS/s; time to ``target_ess`` incl. compile)."""
    num = ok[["compile_s", "warmup_s", "sampling_s", "ess_bulk_min", "ess_per_s"]].apply(pd.to_numeric, errors="coerce")
    per_target = num["sampling_s"] * target_ess / num["ess_bulk_min"]
    t = num["compile_s"] + num["warmup_s"] + per_target
    cache = ""
    if "cache_hit" in ok:
        hits = ok["cache_hit"].map(lambda v: v is True or str(v).lower() == "true")
        known = ok["cache_hit"].map(lambda v: str(v).lower() in ("true", "false"))
        cache = f"{int(hits.sum())}/{int(known.sum())} cached" if known.any() else ""
    e_lo, e_hi, coverage = median_interval(num["ess_per_s"].tolist())
    t_lo, t_hi, _ = median_interval(t.tolist())
    return Candidate(backend, len(ok), float(num["ess_per_s"].median()), float(t.median()),
                     float(num["compile_s"].median()), float(num["warmup_s"].median()), float(per_target.median()),
                     cache=cache, ess_per_s_interval=(e_lo, e_hi), time_interval=(t_lo, t_hi),
                     interval_coverage=coverage)


def ranked(candidates: list[Candidate], by: str) -> list[tuple[int, Candidate]]:
    """(rank, candidate) sorted the way they are ranked: by rank, then by the median ("ess" or "time")."""
    if by == "ess":
        ranks = interval_ranks([c.ess_per_s_interval for c in candidates], higher_is_better=True)
        order = sorted(zip(ranks, candidates), key=lambda rc: (rc[0], -rc[1].ess_per_s))
    else:
        ranks = interval_ranks([c.time_interval for c in candidates], higher_is_better=False)
        order = sorted(zip(ranks, candidates), key=lambda rc: (rc[0], rc[1].time_to_target_s))
    return order
