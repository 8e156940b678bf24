"""Power of the SBC verdict, computed exactly; ``python -m harness sbc-power`` prints the table.

Alternative: one quantity's posterior is shifted by ``delta`` posterior sd (a biased sampler). With
the posterior locally normal, the truth is a draw from the exact posterior and the L kept draws come
from the shifted one, so rank = #(draws < truth) ~ Binomial(L, Phi(z - delta)), z ~ N(0, 1):

    P(rank = r) = integral Binomial(r; L, Phi(z - delta)) phi(z) dz      (Gauss-Hermite, 121 nodes)

The test (``harness.sbc.stats``) rejects when S <= s_crit, the exact critical value at level
alpha / Q (Bonferroni over the Q quantities of a model). Power = P(S <= s_crit | shifted ranks),
exact by the same banded-binomial recursion as the p-value. ``min_shift`` is the smallest delta
detected with probability 0.8 (bisection to 0.005 sd).

A verdict's power is ``min_shift(n, L, alpha / Q)`` at its usable replicate count n; a pass whose
``min_shift`` exceeds ``ADEQUATE_SHIFT`` (0.5 sd) is ``pass (weak)``. Results are cached in
``$PPL_HARNESS_CACHE/sbc-power.json`` (default ``~/.cache/ppl-harness``).
"""

from __future__ import annotations

import json
import os
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import stats as sps

from harness.paths import cache_root
from harness.sbc import stats

TARGET_POWER = 0.8
ADEQUATE_SHIFT = 0.5       # posterior sd: a pass must detect this shift with 80% probability
MAX_SHIFT = 4.0
TABLE_N = (20, 40, 50, 60, 80, 100, 150, 200, 500, 1000)
_CACHE_VERSION = 1


def shifted_cells(delta: float, kept: int) -> np.ndarray:
    """P(rank = r), r = 0..kept, when the kept draws come from the posterior shifted by ``delta`` sd."""
    z, w = np.polynomial.hermite_e.hermegauss(121)
    w = w / np.sqrt(2.0 * np.pi)
    p = sps.norm.cdf(z - delta)
    cells = sps.binom.pmf(np.arange(kept + 1)[:, None], kept, p[None, :]) @ w
    return cells / cells.sum()


def power(n: int, kept: int, level: float, delta: float) -> float:
    """Probability that one quantity's test at ``level`` rejects with n ranks shifted by ``delta`` sd."""
    if n < 1:
        return 0.0
    crit = stats.critical_value(n, kept, level)
    allowed = stats.pointwise_tails(n, kept) > crit * (1.0 + 1e-12)
    return float(1.0 - stats.stay_probability(allowed, shifted_cells(delta, kept)))


def _cache_path() -> Path:
    root = cache_root()
    return root / "sbc-power.json"


def _read_cache() -> dict:
    try:
        data = json.loads(_cache_path().read_text())
        return data if data.get("version") == _CACHE_VERSION else {"version": _CACHE_VERSION}
    except (OSError, ValueError):
        return {"version": _CACHE_VERSION}


def _write_cache(key: str, value: float) -> None:
    try:
        data = _read_cache()
        data[key] = value
        path = _cache_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=0, sort_keys=True))
        tmp.replace(path)
    except OSError:
        pass  # a cache is an optimisation only


def min_shift(n: int, kept: int, level: float, target: float = TARGET_POWER) -> float:
    """Smallest shift (posterior sd) detected with probability ``target``; inf when above MAX_SHIFT."""
    if n < 1 or not 0 < level < 1:
        return float("inf")
    return _min_shift(int(n), int(kept), round(float(level), 10), float(target))


@lru_cache(maxsize=1024)
def _min_shift(n: int, kept: int, level: float, target: float) -> float:
    key = f"{n}|{kept}|{level:.10g}|{target}"
    cached = _read_cache().get(key)
    if cached is not None:
        return float(cached)
    if power(n, kept, level, MAX_SHIFT) < target:
        value = float("inf")
    else:
        lo, hi = 0.0, MAX_SHIFT
        while hi - lo > 0.005:
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if power(n, kept, level, mid) >= target else (mid, hi)
        value = round(hi, 3)
    _write_cache(key, value)
    return value


def verdict_power(n: int, kept: int, alpha: float, quantities: int) -> float:
    """``min_shift`` of one model x backend verdict: n usable replicates, Bonferroni over Q quantities."""
    return min_shift(n, kept, alpha / max(1, quantities))


def adequate(shift: float) -> bool:
    return bool(np.isfinite(shift) and shift <= ADEQUATE_SHIFT + 1e-9)


def replicates_for(kept: int, level: float, shift: float = ADEQUATE_SHIFT, at_least: int = 20,
                   most: int = 1000) -> int:
    """Smallest n (multiple of 10, >= ``at_least``) whose test at ``level`` detects ``shift`` with 80% power."""
    n = max(10, int(np.ceil(at_least / 10.0)) * 10)
    while n < most and min_shift(n, kept, level) > shift + 1e-9:
        n += 10
    return min(n, most)


def table_rows(ns=TABLE_N, kept: int = 39, alpha: float = 0.05, quantities: int = 3) -> list[dict]:
    level = alpha / quantities
    rows = []
    for n in ns:
        crit = stats.critical_value(n, kept, level)
        size = stats.p_value_of_statistic(crit, n, kept) if crit >= 0 else 0.0
        rows.append({"n": n, "min_shift": min_shift(n, kept, level),
                     **{f"power_{d}": power(n, kept, level, d) for d in (0.25, 0.5, 1.0)},
                     "size_per_quantity": size, "level_per_quantity": level})
    return rows


def table_markdown(rows: list[dict], kept: int, alpha: float, quantities: int) -> str:
    from harness.tables import markdown_table

    headers = ["replicates", "shift detected with 80% power (sd)", "power at 0.25 sd", "power at 0.5 sd",
               "power at 1 sd", "exact false-alarm rate per quantity", "verdict of a pass"]
    cells = [[r["n"], f"{r['min_shift']:.2f}", f"{r['power_0.25']:.0%}", f"{r['power_0.5']:.0%}", f"{r['power_1.0']:.0%}",
              f"{r['size_per_quantity']:.4f} (<= {r['level_per_quantity']:.4f})",
              "pass" if adequate(r["min_shift"]) else "pass (weak)"] for r in rows]
    intro = (f"Power of one model x backend verdict: L = {kept}, alpha = {alpha}, Q = {quantities} quantities "
             f"(each tested at {alpha / quantities:.4g}), one quantity shifted by delta posterior sd; exact.")
    return intro + "\n\n" + markdown_table(cells, headers)


# ---------------------------------------------------------------- python -m harness sbc-power


def configure(parser) -> None:
    parser.add_argument("--n", default=",".join(map(str, TABLE_N)), help="replicate counts, comma-separated")
    parser.add_argument("--kept", type=int, default=39, help="kept draws L per replicate")
    parser.add_argument("--alpha", type=float, default=stats.DEFAULT_ALPHA, help="family-wise significance level")
    parser.add_argument("--quantities", type=int, default=3, help="test quantities Q of the model (Bonferroni)")


def command(args) -> int:
    ns = [int(x) for x in str(args.n).split(",") if x.strip()]
    rows = table_rows(ns, args.kept, args.alpha, args.quantities)
    print(table_markdown(rows, args.kept, args.alpha, args.quantities))
    level = args.alpha / args.quantities
    print(f"\nReplicates for 80% power at {ADEQUATE_SHIFT} sd: {replicates_for(args.kept, level)}", file=sys.stdout)
    return 0
