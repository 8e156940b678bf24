"""Bayesian linear regression (posteriordb ``sblrc-blr``), N = 100, D = 5, no intercept.

beta[d] ~ N(0, 10), sigma ~ N(0, 10) on sigma > 0 (a half-normal), y ~ N(X beta, sigma). Proper prior:
``sample_prior`` and ``simulate`` (y given the fixed design X) make SBC possible.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw)


def sample_prior(rng, data):
    return {"beta": rng.normal(0.0, 10.0, size=data["D"]), "sigma": np.abs(rng.normal(0.0, 10.0))}


def simulate(rng, params, data):
    mu = data["X"] @ np.asarray(params["beta"], dtype=np.float64)
    return {**data, "y": rng.normal(mu, float(params["sigma"]))}


def log_prior(params, data):
    # the half-normal's log 2 is a constant (Stan's target += normal_lpdf(sigma | 0, 10) leaves it out)
    return normal_lpdf(params["beta"], 0.0, 10.0) + normal_lpdf(params["sigma"], 0.0, 10.0)


def log_likelihood(params, data):
    return normal_lpdf(data["y"], data["X"] @ np.asarray(params["beta"], dtype=np.float64), float(params["sigma"]))


SPEC = ModelSpec(
    name="blr",
    description="Bayesian linear regression, N=100, D=5, half-normal sigma (posteriordb sblrc-blr)",
    params=(Param("beta", ("D",)), Param("sigma", support="positive")),
    data_file="data.json.zip",
    prepare_data=prepare,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    rows="N",  # observations are conditionally independent rows (posterior SBC)
    tags=("glm",),
    size_class="small",
    posteriordb="sblrc-blr",
)
