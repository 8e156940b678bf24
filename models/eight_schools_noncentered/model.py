"""Eight Schools, non-centred: theta = mu + tau * theta_trans, theta_trans ~ N(0, 1).

mu ~ N(0, 5); tau ~ HalfCauchy(5); theta_trans[j] ~ N(0, 1); y[j] ~ N(mu + tau * theta_trans[j], sigma[j]).
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import eight_schools_data, half_cauchy_lpdf, normal_lpdf


def make_data(rng):
    return eight_schools_data(rng)


def sample_prior(rng, data):
    return {
        "mu": rng.normal(0.0, 5.0),
        "tau": np.abs(5.0 * rng.standard_cauchy()),
        "theta_trans": rng.normal(0.0, 1.0, size=data["J"]),
    }


def derive(params, data):
    mu, tau = np.asarray(params["mu"]), np.asarray(params["tau"])
    return {"theta": mu[..., None] + tau[..., None] * np.asarray(params["theta_trans"])}


def simulate(rng, params, data):
    theta = derive(params, data)["theta"]
    return {**data, "y": rng.normal(theta, data["sigma"])}


def log_prior(params, data):
    """One point, or points stacked on one leading axis (then an array: ``batched_density``)."""
    b = np.ndim(params["mu"])
    return (
        normal_lpdf(params["mu"], 0.0, 5.0, b)
        + half_cauchy_lpdf(params["tau"], 5.0, b)
        + normal_lpdf(params["theta_trans"], 0.0, 1.0, b)
    )


def log_likelihood(params, data):
    """One point, or points stacked on one leading axis (then an array: ``batched_density``)."""
    return normal_lpdf(data["y"], derive(params, data)["theta"], data["sigma"], np.ndim(params["mu"]))


SPEC = ModelSpec(
    name="eight_schools_noncentered",
    description="Eight Schools, non-centred parameterisation (mu ~ N(0,5), tau ~ HalfCauchy(5))",
    params=(Param("mu"), Param("tau", support="positive"), Param("theta_trans", ("J",))),
    derived=(Param("theta", ("J",)),),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    derive=derive,
    batched_density=True,
    observed=("y",),
    tags=("hierarchical",),
    size_class="small",
    posteriordb="eight_schools-eight_schools_noncentered",
)
