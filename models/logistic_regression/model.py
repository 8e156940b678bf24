"""Logistic regression.

alpha ~ N(0, 2.5); beta[d] ~ N(0, 1); y[n] ~ Bernoulli(logit^-1(alpha + X[n] beta)).
Data: X (N, D) standard normal; y simulated from one prior draw of (alpha, beta).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from harness.spec import ModelSpec, Param
from models._common import bernoulli_logit_lpmf, normal_lpdf


def make_data(rng, N, D):
    N, D = int(N), int(D)
    truth = sample_prior(rng, {"D": D})  # drawn first: the same true parameters at every N
    data = {"N": N, "D": D, "X": rng.normal(0.0, 1.0, size=(N, D))}
    return simulate(rng, truth, data)


def sample_prior(rng, data):
    return {"alpha": rng.normal(0.0, 2.5), "beta": rng.normal(0.0, 1.0, size=data["D"])}


def _logits(params, data):
    return params["alpha"] + data["X"] @ np.asarray(params["beta"])


def simulate(rng, params, data):
    p = special.expit(_logits(params, data))
    return {**data, "y": (rng.uniform(size=p.shape) < p).astype(np.int64)}


def log_prior(params, data):
    return normal_lpdf(params["alpha"], 0.0, 2.5) + normal_lpdf(params["beta"], 0.0, 1.0)


def log_likelihood(params, data):
    return bernoulli_logit_lpmf(data["y"], _logits(params, data))


SPEC = ModelSpec(
    name="logistic_regression",
    description="Logistic regression (alpha ~ N(0,2.5), beta[D] ~ N(0,1)), X standard normal",
    params=(Param("alpha"), Param("beta", ("D",))),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    rows="N",  # observations are conditionally independent rows (posterior SBC)
    size_defaults={"N": 1000, "D": 10},
    tags=("glm",),
    size_class="small",
)
