"""ARMA(1, 1) time series (posteriordb ``arma-arma11``), T = 200.

nu[0] = mu + phi mu (err[-1] = 0), nu[t] = mu + phi y[t-1] + theta err[t-1], err[t] = y[t] - nu[t],
err ~ N(0, sigma). Priors mu ~ N(0, 10), phi ~ N(0, 2), theta ~ N(0, 2), sigma ~ Cauchy(0, 2.5) on
sigma > 0 (a half-Cauchy). The prior is proper and ``sample_prior`` draws from it, but there is no
``simulate``: under phi ~ N(0, 2) most prior draws (|phi| > 1, 62%) are explosive; of 400 series simulated
from the prior, 58% exceeded 1e10 in magnitude (median max |y| 2e32, 90% quantile 2e110), where the error
recursion (err[t] = y[t] - ...) loses every digit against sigma, so SBC says "no prior simulator".
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import half_cauchy_lpdf, normal_lpdf
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw)


def errors(params, data):
    """err (T,) by Stan's recursion, at one point."""
    y = data["y"]
    mu, phi, theta = (float(params[k]) for k in ("mu", "phi", "theta"))
    err = np.empty(len(y))
    err[0] = y[0] - (mu + phi * mu)
    for t in range(1, len(y)):
        err[t] = y[t] - (mu + phi * y[t - 1] + theta * err[t - 1])
    return err


def sample_prior(rng, data):
    return {"mu": rng.normal(0.0, 10.0), "phi": rng.normal(0.0, 2.0), "theta": rng.normal(0.0, 2.0),
            "sigma": np.abs(2.5 * rng.standard_cauchy())}


def log_prior(params, data):
    # the half-Cauchy's log 2 (Stan's truncated Cauchy drops it) is a constant
    return (normal_lpdf(params["mu"], 0.0, 10.0) + normal_lpdf(params["phi"], 0.0, 2.0)
            + normal_lpdf(params["theta"], 0.0, 2.0) + half_cauchy_lpdf(params["sigma"], 2.5))


def log_likelihood(params, data):
    return normal_lpdf(errors(params, data), 0.0, float(params["sigma"]))


SPEC = ModelSpec(
    name="arma11",
    description="ARMA(1,1) time series, 200 observations (posteriordb arma-arma11)",
    params=(Param("mu"), Param("phi"), Param("theta"), Param("sigma", support="positive")),
    data_file="data.json.zip",
    prepare_data=prepare,
    sample_prior=sample_prior,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("time-series",),
    size_class="small",
    posteriordb="arma-arma11",
)
