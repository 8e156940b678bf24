"""Stochastic volatility, non-centred (Stan User's Guide, "Stochastic volatility models").

mu ~ Cauchy(0, 10); phi ~ Uniform(-1, 1); sigma ~ HalfCauchy(5); h_std[t] ~ N(0, 1);
h[0] = mu + sigma h_std[0] / sqrt(1 - phi^2), h[t] = mu + phi (h[t-1] - mu) + sigma h_std[t];
y[t] ~ N(0, exp(h[t] / 2)). The log volatilities h are derived (``derive``).

Every implementation runs the recursion on the deviations a = h - mu and adds mu last (the User's
Guide program adds mu first and subtracts it at every step): the same density, without the rounding
of (h[t-1] - mu), which exp(-h) amplifies past the equivalence checks' tolerance at extreme points
(prior draws with |h| in the hundreds and phi near 1).

Data: T returns simulated by ``make_data`` from the model's own generative process at fixed true
parameters (mu = -1, phi = 0.95, sigma = 0.25; h[0] from the stationary distribution).
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import half_cauchy_lpdf, normal_lpdf, uniform_lpdf

TRUTH = {"mu": -1.0, "phi": 0.95, "sigma": 0.25}


def log_volatility(params, data):
    """h (..., T) from the free parameters, in the Stan program's order of operations: the deviations
    a = h - mu first (a = h_std * sigma; a[0] /= sqrt(1 - phi^2); a[t] += phi a[t-1]), then h = a + mu.
    Broadcasts over leading (chain, draw) axes."""
    mu, phi, sigma = (np.asarray(params[k], dtype=np.float64)[..., None] for k in ("mu", "phi", "sigma"))
    a = np.asarray(params["h_std"], dtype=np.float64) * sigma
    a[..., :1] = a[..., :1] / np.sqrt(1.0 - phi * phi)
    for t in range(1, a.shape[-1]):
        a[..., t] = a[..., t] + phi[..., 0] * a[..., t - 1]
    return a + mu


def make_data(rng, T):
    T = int(T)
    params = {**TRUTH, "h_std": rng.normal(size=T)}
    return simulate(rng, params, {"T": T, "y": np.zeros(T)})


def sample_prior(rng, data):
    return {"mu": 10.0 * rng.standard_cauchy(), "phi": rng.uniform(-1.0, 1.0),
            "sigma": np.abs(5.0 * rng.standard_cauchy()), "h_std": rng.normal(size=data["T"])}


TINY = np.finfo(np.float64).tiny  # the smallest normal float64


def simulate(rng, params, data):
    """y[t] = z[t] exp(h[t] / 2), z ~ N(0, 1); where exp(h / 2) itself is not a normal float64, as
    sign(z) exp(log|z| + h / 2), so a y that is a float is exact. An entry whose exact value is not a
    normal float64 (|y| above the largest, or below the smallest, where it would be rounded to 0 or to a
    subnormal number with a few significant bits: y / exp(h / 2) then changes by O(1)) is +-inf: every
    parameter value has density 0 there, so no backend can fit such a replicate and SBC counts it as a
    failed fit instead of ranking the truth against the posterior of rounded data. Which replicates these
    are depends on the data alone, so the ranks of the others stay uniform (README: about 1.6% of prior
    draws at T = 500)."""
    h = log_volatility(params, data)
    z = rng.normal(0.0, 1.0, size=data["T"])
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        scale = np.exp(h / 2.0)
        y = np.where((scale >= TINY) & np.isfinite(scale), z * scale, np.sign(z) * np.exp(np.log(np.abs(z)) + h / 2.0))
    return {**data, "y": np.where(np.abs(y) >= TINY, y, np.copysign(np.inf, z))}


def derive(params, data):
    return {"h": log_volatility(params, data)}


def log_prior(params, data):
    mu = float(params["mu"])
    return (float(-np.log(10.0 * np.pi) - np.log1p((mu / 10.0) ** 2))  # Cauchy(0, 10)
            + uniform_lpdf(params["phi"], -1.0, 1.0)
            + half_cauchy_lpdf(params["sigma"], 5.0)
            + normal_lpdf(params["h_std"], 0.0, 1.0))


def log_likelihood(params, data):
    return normal_lpdf(data["y"], 0.0, np.exp(log_volatility(params, data) / 2.0))


SPEC = ModelSpec(
    name="stochastic_volatility",
    description="Stochastic volatility (Stan User's Guide, non-centred), T = 500 simulated returns",
    params=(Param("mu"), Param("phi", support="interval(-1, 1)"), Param("sigma", support="positive"),
            Param("h_std", ("T",))),
    derived=(Param("h", ("T",)),),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    derive=derive,
    observed=("y",),
    size_defaults={"T": 500},
    tags=("time-series", "synthetic"),
    size_class="medium",
)
