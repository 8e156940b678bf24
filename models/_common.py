"""Pieces several catalogue declarations share: fixed data sets and scipy log densities."""

from __future__ import annotations

import numpy as np
from scipy import special

# Rubin (1981) Eight Schools: estimated treatment effects and their standard errors.
EIGHT_SCHOOLS_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
EIGHT_SCHOOLS_SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def eight_schools_data(rng: np.random.Generator | None = None) -> dict:
    """Eight Schools data: J=8, y (J,), sigma (J,). ``rng`` is unused (the data are fixed)."""
    return {"J": 8, "y": EIGHT_SCHOOLS_Y.copy(), "sigma": EIGHT_SCHOOLS_SIGMA.copy()}


# The densities below are the closed forms of scipy.stats' (tests/test_catalogue.py compares them on and
# off the support). SBC evaluates them at every posterior draw of every replicate (``loglik`` and
# ``joint``, 500 draws per replicate), where scipy.stats' per-call overhead (~40 us) was 95% of a
# NumPyro replicate's rank step and 80% of its cost after compile (profiled).
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def _positive_scale(scale):
    """``scale`` as a float or an array, NaN where it is not positive (scipy.stats' answer)."""
    if isinstance(scale, float | int):
        return float(scale) if scale > 0 else np.nan
    scale = np.asarray(scale, dtype=np.float64)
    return np.where(scale > 0, scale, np.nan)


def _total(terms, batch_ndim: int):
    """Sum over every axis after the first ``batch_ndim``: a float for one point (``batch_ndim`` 0), else
    an array of the batch shape. Each point's terms are summed exactly as a single point's are, so a
    batched density equals the per-point one bit for bit (tests/test_catalogue.py)."""
    terms = np.asarray(terms, dtype=np.float64)
    if batch_ndim == 0:
        return float(np.sum(terms))
    return np.sum(terms, axis=tuple(range(batch_ndim, terms.ndim)))


def normal_lpdf(x, loc, scale, batch_ndim: int = 0):
    """Sum of Normal(loc, scale) log densities over all elements (per point of the leading
    ``batch_ndim`` axes)."""
    scale = _positive_scale(scale)
    z = (np.asarray(x, dtype=np.float64) - loc) / scale
    return _total(-0.5 * z * z - np.log(scale) - _LOG_SQRT_2PI, batch_ndim)


def half_cauchy_lpdf(x, scale, batch_ndim: int = 0):
    """Sum of HalfCauchy(scale) log densities over all elements (-inf below 0; per point of the
    leading ``batch_ndim`` axes)."""
    x, scale = np.asarray(x, dtype=np.float64), _positive_scale(scale)
    inside = np.log(2.0 / np.pi) - np.log(scale) - np.log1p((x / scale) ** 2)
    return _total(np.where(x >= 0, inside, -np.inf), batch_ndim)


def lognormal_lpdf(x, mu, sigma) -> float:
    """Sum of LogNormal(mu, sigma) log densities (mu, sigma of log x; -inf at and below 0)."""
    x, sigma = np.asarray(x, dtype=np.float64), _positive_scale(sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_x = np.log(np.where(x > 0, x, 1.0))
    z = (log_x - mu) / sigma
    inside = -0.5 * z * z - np.log(sigma) - _LOG_SQRT_2PI - log_x
    return float(np.sum(np.where(x > 0, inside, -np.inf)))


def uniform_lpdf(x, lower, upper) -> float:
    """Sum of Uniform(lower, upper) log densities (-inf outside [lower, upper])."""
    x = np.asarray(x, dtype=np.float64)
    width = _positive_scale(np.asarray(upper, dtype=np.float64) - lower)
    return float(np.sum(np.where((x >= lower) & (x <= upper), -np.log(width), -np.inf)))


def bernoulli_logit_lpmf(y, logits) -> float:
    """Sum of Bernoulli(logit^-1(logits)) log masses, computed stably (log_expit)."""
    y, logits = np.asarray(y), np.asarray(logits)
    return float(np.sum(np.where(y == 1, special.log_expit(logits), special.log_expit(-logits))))


def two_groups_data(rng: np.random.Generator, n_a: int = 1000, n_b: int = 200) -> dict:
    """Two groups with unit noise: a (n_a points, true mean 0) then b (n_b points, true mean 2).

    N = n_a + n_b, x (N,) float, group (N,) int64 (0 for a, 1 for b).
    """
    x = np.concatenate([rng.normal(0.0, 1.0, n_a), rng.normal(2.0, 1.0, n_b)])
    group = np.concatenate([np.zeros(n_a, dtype=np.int64), np.ones(n_b, dtype=np.int64)])
    return {"N": n_a + n_b, "x": x, "group": group}


def two_groups_stan_data(data: dict) -> dict:
    """The two-groups data for Stan: group indices 1-based."""
    return {**data, "group": np.asarray(data["group"], dtype=np.int64) + 1}
