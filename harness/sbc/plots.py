"""One figure per model x backend: ECDF-difference plots with simultaneous bands, rank histograms.

Top block, one panel per quantity: ECDF of the ranks minus the uniform CDF against the fractional
rank (k + 1) / (L + 1), with the simultaneous band of ``harness.sbc.stats.ecdf_band`` at the
Bonferroni level the verdict uses; a quantity that leaves its band is drawn in red. Bottom block: rank
histograms with the expected count and its pointwise 99% binomial range. All successful fits.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def _bins(n: int, kept: int) -> list[np.ndarray]:
    values = kept + 1
    limit = max(2, min(20, n // 5, values))
    divisors = [b for b in range(2, limit + 1) if values % b == 0]
    return np.array_split(np.arange(values), divisors[-1] if divisors else limit)


def combo_figure(path: Path, result, kept: int) -> Path:
    """Write the figure of one ``harness.sbc.summary.ComboResult`` to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import stats as sps

    from harness.sbc import stats

    names, ranks = result.names, result.ranks_ok
    n = ranks.shape[0]
    q = len(names)
    ncols = min(q, 4)
    block = math.ceil(q / ncols)
    fig, axes = plt.subplots(2 * block, ncols, figsize=(3.1 * ncols, 2.1 * 2 * block), squeeze=False)
    x = stats.uniform_cdf(kept)
    row = result.row
    fig.suptitle(f"SBC {row['model']} x {row['backend']}: {row['verdict']} ({n} ok of {row['sims']}, L = {kept}, "
                 f"bands {result.prob:.4f} each)", fontsize=10)
    if n:
        lower, upper = stats.ecdf_band(n, kept, result.prob)
    for j, name in enumerate(names):
        ax = axes[j // ncols][j % ncols]
        ax.axhline(0.0, color="0.6", lw=0.6)
        if n:
            diff = stats.ecdf(ranks[:, j], kept) - x
            ok = stats.in_band(ranks[:, j], kept, result.prob)
            ax.fill_between(x, lower - x, upper - x, step="post", color="C0", alpha=0.2, lw=0)
            ax.step(x, diff, where="post", color="C0" if ok else "C3", lw=1.0)
        ax.set_title(name, fontsize=8, color="black" if not n or ok else "C3")
        ax.tick_params(labelsize=6)
        hx = axes[block + j // ncols][j % ncols]
        if n:
            groups = _bins(n, kept)
            counts = np.bincount(ranks[:, j], minlength=kept + 1)
            heights = [counts[g].sum() for g in groups]
            widths = [len(g) for g in groups]
            lefts = [g[0] for g in groups]
            hx.bar(lefts, heights, width=widths, align="edge", color="C0" if ok else "C3", alpha=0.7)
            p = widths[0] / (kept + 1)
            lo, hi = sps.binom.interval(0.99, n, p)
            hx.axhspan(lo, hi, color="0.5", alpha=0.2, lw=0)
            hx.axhline(n * p, color="0.3", lw=0.6)
        hx.set_title(f"{name} ranks", fontsize=8)
        hx.tick_params(labelsize=6)
    for j in range(q, block * ncols):
        axes[j // ncols][j % ncols].axis("off")
        axes[block + j // ncols][j % ncols].axis("off")
    # fixed margins: tight_layout measures every label's text and took most of the figure's time
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.04, top=1.0 - 0.5 / fig.get_figheight(), hspace=0.55,
                        wspace=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
