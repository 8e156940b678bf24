"""Eight Schools, non-centred, with a flat prior on tau: theta = mu + tau * theta_trans.

mu ~ N(8.75, 20); tau ~ Uniform(0, 100); theta_trans[j] ~ N(0, 1);
y[j] ~ N(mu + tau * theta_trans[j], sigma[j]).
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import eight_schools_data, normal_lpdf, uniform_lpdf


def make_data(rng):
    return eight_schools_data(rng)


def sample_prior(rng, data):
    return {
        "mu": rng.normal(8.75, 20.0),
        "tau": rng.uniform(0.0, 100.0),
        "theta_trans": rng.normal(0.0, 1.0, size=data["J"]),
    }


def derive(params, data):
    mu, tau = np.asarray(params["mu"]), np.asarray(params["tau"])
    return {"theta": mu[..., None] + tau[..., None] * np.asarray(params["theta_trans"])}


def simulate(rng, params, data):
    theta = derive(params, data)["theta"]
    return {**data, "y": rng.normal(theta, data["sigma"])}


def log_prior(params, data):
    return (
        normal_lpdf(params["mu"], 8.75, 20.0)
        + uniform_lpdf(params["tau"], 0.0, 100.0)
        + normal_lpdf(params["theta_trans"], 0.0, 1.0)
    )


def log_likelihood(params, data):
    return normal_lpdf(data["y"], derive(params, data)["theta"], data["sigma"])


SPEC = ModelSpec(
    name="eight_schools_uniform",
    description="Eight Schools, non-centred, flat tau prior (mu ~ N(8.75,20), tau ~ U(0,100))",
    params=(Param("mu"), Param("tau", support="interval(0, 100)"), Param("theta_trans", ("J",))),
    derived=(Param("theta", ("J",)),),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    derive=derive,
    observed=("y",),
    tags=("hierarchical",),
    size_class="small",
)
