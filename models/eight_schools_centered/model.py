"""Eight Schools, centred: theta[j] ~ N(mu, tau) sampled directly.

mu ~ N(0, 5); tau ~ HalfCauchy(5); theta[j] ~ N(mu, tau); y[j] ~ N(theta[j], sigma[j]).
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import eight_schools_data, half_cauchy_lpdf, normal_lpdf


def make_data(rng):
    return eight_schools_data(rng)


def sample_prior(rng, data):
    mu = rng.normal(0.0, 5.0)
    tau = np.abs(5.0 * rng.standard_cauchy())
    return {"mu": mu, "tau": tau, "theta": rng.normal(mu, tau, size=data["J"])}


def simulate(rng, params, data):
    return {**data, "y": rng.normal(params["theta"], data["sigma"])}


def log_prior(params, data):
    return (
        normal_lpdf(params["mu"], 0.0, 5.0)
        + half_cauchy_lpdf(params["tau"], 5.0)
        + normal_lpdf(params["theta"], params["mu"], params["tau"])
    )


def log_likelihood(params, data):
    return normal_lpdf(data["y"], params["theta"], data["sigma"])


SPEC = ModelSpec(
    name="eight_schools_centered",
    description="Eight Schools, centred parameterisation (mu ~ N(0,5), tau ~ HalfCauchy(5))",
    params=(Param("mu"), Param("tau", support="positive"), Param("theta", ("J",))),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("hierarchical", "funnel"),
    size_class="small",
    posteriordb="eight_schools-eight_schools_centered",
)
