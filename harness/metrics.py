"""Diagnostics of one fit, computed by ArviZ on the harness's own draws (never a backend's summary)."""

from __future__ import annotations

import hashlib

import numpy as np

from harness import diagnostics
from harness.backends.base import Fit


def _min_over_scalars(dataset) -> tuple[float, str]:
    """Smallest value over every scalar component of every variable, and where it is."""
    best, where = np.inf, ""
    for name, var in dataset.data_vars.items():
        values = np.asarray(var.values, dtype=np.float64).reshape(-1)
        if values.size == 0:
            continue
        i = int(np.nanargmin(values)) if not np.all(np.isnan(values)) else 0
        if np.isnan(values[i]):
            return float("nan"), name
        if values[i] < best:
            best, where = float(values[i]), (name if values.size == 1 else f"{name}[{i}]")
    return best, where


def _max_over_scalars(dataset) -> float:
    values = np.concatenate([np.asarray(v.values, dtype=np.float64).reshape(-1) for v in dataset.data_vars.values()])
    return float(np.nan) if np.any(np.isnan(values)) else float(values.max())


def draws_digest(draws: dict[str, np.ndarray]) -> str:
    """sha256 of the draws (names sorted, float64 bytes): equal iff the draws are bit-identical."""
    h = hashlib.sha256()
    for name in sorted(draws):
        h.update(name.encode())
        h.update(np.ascontiguousarray(draws[name], dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def fit_metrics(fit: Fit, reported: dict[str, np.ndarray]) -> dict:
    """ESS (bulk, tail), R-hat and sampler counts of one fit.

    ``reported`` are the draws of every reported quantity (free params plus derived),
    each (chain, draw, *shape). ESS/R-hat minima and maxima run over all their scalar components.
    """
    ess_bulk, worst = _min_over_scalars(diagnostics.ess(reported, "bulk"))
    ess_tail, _ = _min_over_scalars(diagnostics.ess(reported, "tail"))
    rhat = _max_over_scalars(diagnostics.rhat(reported)) if fit.diverging.shape[0] > 1 else float("nan")
    n_grad = int(np.sum(fit.n_steps))
    return {
        "ess_bulk_min": ess_bulk,
        "ess_tail_min": ess_tail,
        "ess_worst_param": worst,
        "rhat_max": rhat,
        "divergences": int(np.sum(fit.diverging)),
        "n_grad": n_grad,
        "n_grad_warmup": fit.n_grad_warmup,
        "mean_tree_steps": float(np.mean(fit.n_steps)),
        "ess_per_grad": ess_bulk / n_grad if n_grad else float("nan"),
        "draws_digest": draws_digest(fit.draws),
    }

