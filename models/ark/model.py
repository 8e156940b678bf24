"""AR(K) time series (posteriordb ``arK-arK``): y[t] ~ N(alpha + sum_k beta[k] y[t-k], sigma) for
t = K+1..T (the first K observations are conditioned on), K = 5, T = 200.

alpha ~ N(0, 10), beta[k] ~ N(0, 10), sigma ~ Cauchy(0, 2.5) on sigma > 0 (a half-Cauchy). The prior
is proper and ``sample_prior`` draws from it, but there is no ``simulate``: under beta ~ N(0, 10) almost
every prior draw is an explosive AR process: series simulated from 200 prior draws reached a median
max |y| of 2e170 (1% below 5e52), whose squares overflow float64, so SBC would fit meaningless data and
there is no simulator (SBC says "no prior simulator").
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import half_cauchy_lpdf, normal_lpdf
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw)


def lags(y, K):
    """(T - K, K) lagged design: column k holds y[t - k - 1] for t = K..T-1 (0-based)."""
    T = len(y)
    return np.stack([y[K - k - 1:T - k - 1] for k in range(K)], axis=1)


def sample_prior(rng, data):
    return {"alpha": rng.normal(0.0, 10.0), "beta": rng.normal(0.0, 10.0, size=data["K"]),
            "sigma": np.abs(2.5 * rng.standard_cauchy())}


def log_prior(params, data):
    # the half-Cauchy's log 2 (Stan's truncated Cauchy drops it) is a constant
    return (normal_lpdf(params["alpha"], 0.0, 10.0) + normal_lpdf(params["beta"], 0.0, 10.0)
            + half_cauchy_lpdf(params["sigma"], 2.5))


def log_likelihood(params, data):
    y, K = data["y"], data["K"]
    mu = float(params["alpha"]) + lags(y, K) @ np.asarray(params["beta"], dtype=np.float64)
    return normal_lpdf(y[K:], mu, float(params["sigma"]))


SPEC = ModelSpec(
    name="ark",
    description="AR(5) time series, 200 observations (posteriordb arK-arK)",
    params=(Param("alpha"), Param("beta", ("K",)), Param("sigma", support="positive")),
    data_file="data.json.zip",
    prepare_data=prepare,
    sample_prior=sample_prior,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("time-series",),
    size_class="small",
    posteriordb="arK-arK",
)
