"""Weibull survival regression with right censoring.

alpha ~ LogNormal(0, 0.5) (the Weibull shape); intercept ~ N(0, 2); beta[k] ~ N(0, 1);
sigma[n] = exp(intercept + X[n] beta) (the Weibull scale: a log-scale linear predictor);
an observed event time contributes the Weibull(alpha, sigma[n]) log density at y[n], a right-censored
one (censored[n] = 1) the log survival function log S(y[n]) = -(y[n] / sigma[n])^alpha (Stan's
weibull_lccdf).

Data (``make_data``): X (N, K) standard normal; event times T[n] ~ Weibull(alpha, sigma[n]) at fixed
true parameters; each subject has a follow-up time c[n] ~ Uniform(0.5, 3) (administrative censoring,
independent of the parameters; ``c`` is data, not observed); y[n] = min(T[n], c[n]) and
censored[n] = 1 where T[n] > c[n]. ``simulate`` redraws the event times and the censoring at the same c.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import lognormal_lpdf, normal_lpdf

TRUTH = {"alpha": 1.5, "intercept": 0.3, "beta": np.array([0.8, -0.5, 0.25])}
FOLLOW_UP = (0.5, 3.0)  # c[n] ~ Uniform(FOLLOW_UP)


def make_data(rng, N, K):
    N, K = int(N), int(K)
    beta = np.resize(TRUTH["beta"], K)  # K != 3: the true coefficients repeated
    data = {"N": N, "K": K, "X": rng.normal(0.0, 1.0, size=(N, K)), "c": rng.uniform(*FOLLOW_UP, size=N),
            "y": np.zeros(N), "censored": np.zeros(N, dtype=np.int64)}
    return simulate(rng, {**TRUTH, "beta": beta}, data)


def _log_scale(params, data):
    return float(params["intercept"]) + data["X"] @ np.asarray(params["beta"], dtype=np.float64)


def sample_prior(rng, data):
    return {"alpha": rng.lognormal(0.0, 0.5), "intercept": rng.normal(0.0, 2.0),
            "beta": rng.normal(0.0, 1.0, size=data["K"])}


def simulate(rng, params, data):
    times = np.exp(_log_scale(params, data)) * rng.weibull(float(params["alpha"]), size=data["N"])
    censored = times > data["c"]
    return {**data, "y": np.where(censored, data["c"], times), "censored": censored.astype(np.int64)}


def log_prior(params, data):
    return (lognormal_lpdf(params["alpha"], 0.0, 0.5) + normal_lpdf(params["intercept"], 0.0, 2.0)
            + normal_lpdf(params["beta"], 0.0, 1.0))


def log_likelihood(params, data):
    alpha = float(params["alpha"])
    log_sigma = _log_scale(params, data)
    log_z = np.log(data["y"]) - log_sigma  # log(y / sigma)
    event = data["censored"] == 0
    # every subject: log S(y) = -(y / sigma)^alpha; events also log h(y) = log(alpha / sigma) + (alpha - 1) log(y / sigma)
    return float(-np.sum(np.exp(alpha * log_z))
                 + np.sum(np.log(alpha) - log_sigma[event] + (alpha - 1.0) * log_z[event]))


SPEC = ModelSpec(
    name="weibull_survival",
    description="Weibull survival regression, right censoring, N = 500 simulated subjects, K = 3 covariates",
    params=(Param("alpha", support="positive"), Param("intercept"), Param("beta", ("K",))),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y", "censored"),
    size_defaults={"N": 500, "K": 3},
    tags=("survival", "synthetic"),
    size_class="small",
)
