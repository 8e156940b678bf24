"""Two-component Gaussian mixture in one dimension (posteriordb ``low_dim_gauss_mix-low_dim_gauss_mix``).

mu (ordered[2]) ~ N(0, 2) on the ordered region; sigma[k] ~ HalfNormal(2); theta ~ Beta(5, 5);
y[n] ~ theta N(mu[0], sigma[0]) + (1 - theta) N(mu[1], sigma[1]). 1,000 observations.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw)


def sample_prior(rng, data):
    return {"mu": np.sort(rng.normal(0.0, 2.0, 2)), "sigma": np.abs(rng.normal(0.0, 2.0, 2)),
            "theta": rng.beta(5.0, 5.0)}


def simulate(rng, params, data):
    n = len(data["y"])
    first = rng.random(n) < params["theta"]
    y = np.where(first, rng.normal(params["mu"][0], params["sigma"][0], n), rng.normal(params["mu"][1], params["sigma"][1], n))
    return {**data, "y": y}


def log_prior(params, data):
    # the ordered region's constant (log 2) and the half-normal's (log 2 each) are dropped
    return (normal_lpdf(params["mu"], 0.0, 2.0) + normal_lpdf(params["sigma"], 0.0, 2.0)
            + float(stats.beta.logpdf(params["theta"], 5.0, 5.0)))


def log_likelihood(params, data):
    y, mu, sigma, theta = data["y"], params["mu"], params["sigma"], float(params["theta"])
    a = np.log(theta) + stats.norm.logpdf(y, mu[0], sigma[0])
    b = np.log1p(-theta) + stats.norm.logpdf(y, mu[1], sigma[1])
    return float(np.sum(special.logsumexp(np.stack([a, b]), axis=0)))


SPEC = ModelSpec(
    name="low_dim_gauss_mix",
    description="Two-component 1-D Gaussian mixture, ordered means, 1,000 observations (posteriordb)",
    params=(Param("mu", (2,), "ordered"), Param("sigma", (2,), "positive"), Param("theta", (), "interval(0, 1)")),
    data_file="data.json.zip",
    prepare_data=prepare,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("mixture",),
    size_class="small",
    posteriordb="low_dim_gauss_mix-low_dim_gauss_mix",
)
