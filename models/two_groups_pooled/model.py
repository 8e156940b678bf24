"""Two groups, complete pooling: one mean for both.

mu ~ N(0, 10); x[n] ~ N(mu, 1). Data: group a (1000 points, true mean 0), group b (200, true mean 2).
"""

from __future__ import annotations

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf, two_groups_data, two_groups_stan_data


def make_data(rng):
    return two_groups_data(rng)


def sample_prior(rng, data):
    return {"mu": rng.normal(0.0, 10.0)}


def simulate(rng, params, data):
    return {**data, "x": rng.normal(params["mu"], 1.0, size=data["N"])}


def log_prior(params, data):
    return normal_lpdf(params["mu"], 0.0, 10.0)


def log_likelihood(params, data):
    return normal_lpdf(data["x"], params["mu"], 1.0)


SPEC = ModelSpec(
    name="two_groups_pooled",
    description="Two groups (1000 + 200 points), complete pooling (mu ~ N(0,10))",
    params=(Param("mu"),),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("x",),
    rows="N",  # observations are conditionally independent rows (posterior SBC)
    stan_data=two_groups_stan_data,
    tags=("synthetic",),
    size_class="medium",
)
