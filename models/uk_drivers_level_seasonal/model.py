"""Structural time series with a stochastic level and a stochastic seasonal, UK drivers data
(posteriordb ``uk_drivers-state_space_stochastic_level_stochastic_seasonal``; the Stan program is
fig07_02.stan of sinhrks/stan-statespace, after Commandeur & Koopman, "An Introduction to State Space
Time Series Analysis").

mu (n,): the level, a random walk mu[t] ~ N(mu[t-1], sigma[1]), each element flat on
(mean(y) - 3 sd(y), mean(y) + 3 sd(y)) (bounds from the data: ``mu_lower``, ``mu_upper``, with Stan's
sample sd, denominator n - 1); seasonal (n,): seasonal[t] ~ N(-sum(seasonal[t-11 .. t-1]), sigma[0])
for t >= 11; beta, lambda: flat regression coefficients of x and w; sigma (positive ordered[3]) ~
Student-t(4, 0, 1) each; y[t] ~ N(mu[t] + beta x[t] + lambda w[t] + seasonal[t], sigma[2]).
192 monthly observations. Flat priors: improper, no prior simulator.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays

PERIOD = 12  # seasonal[t] is minus the sum of the 11 before it, plus noise


def prepare(raw):
    data = arrays(raw)
    y = data["y"]
    sd = float(np.std(y, ddof=1))  # Stan's sd(): the sample standard deviation
    return {**data, "mu_lower": float(np.mean(y) - 3.0 * sd), "mu_upper": float(np.mean(y) + 3.0 * sd)}


def seasonal_windows(n):
    """(n - 11, 11) indices: row r holds the 11 seasonal terms before t = r + 11."""
    t = np.arange(PERIOD - 1, n)
    return t[:, None] - np.arange(PERIOD - 1, 0, -1)[None, :]


def log_prior(params, data):
    mu, seasonal, sigma = (np.asarray(params[k], dtype=np.float64) for k in ("mu", "seasonal", "sigma"))
    idx = seasonal_windows(len(seasonal))
    return (normal_lpdf(seasonal[PERIOD - 1:], -seasonal[idx].sum(axis=1), sigma[0])
            + normal_lpdf(mu[1:], mu[:-1], sigma[1])
            + float(np.sum(stats.t.logpdf(sigma, 4.0, 0.0, 1.0))))


def log_likelihood(params, data):
    yhat = (np.asarray(params["mu"]) + float(params["beta"]) * data["x"] + float(params["lambda"]) * data["w"])
    return normal_lpdf(data["y"], yhat + np.asarray(params["seasonal"]), float(params["sigma"][2]))


SPEC = ModelSpec(
    name="uk_drivers_level_seasonal",
    description="Stochastic level + stochastic seasonal state-space model, UK drivers, 192 months (posteriordb)",
    params=(
        Param("mu", ("n",), "interval(mu_lower, mu_upper)"),
        Param("seasonal", ("n",)),
        Param("beta"),
        Param("lambda"),
        Param("sigma", (3,), "positive_ordered"),
    ),
    data_file="data.json.zip",
    prepare_data=prepare,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("time-series",),
    size_class="medium",
    prior="improper",
    posteriordb="uk_drivers-state_space_stochastic_level_stochastic_seasonal",
)
