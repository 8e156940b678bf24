"""Two groups, no pooling: an independent mean per group.

mu[g] ~ N(0, 10), g = 0, 1; x[n] ~ N(mu[group[n]], 1). Same data as ``two_groups_pooled``.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf, two_groups_data, two_groups_stan_data


def make_data(rng):
    return two_groups_data(rng)


def sample_prior(rng, data):
    return {"mu": rng.normal(0.0, 10.0, size=2)}


def simulate(rng, params, data):
    return {**data, "x": rng.normal(np.asarray(params["mu"])[data["group"]], 1.0)}


def log_prior(params, data):
    return normal_lpdf(params["mu"], 0.0, 10.0)


def log_likelihood(params, data):
    return normal_lpdf(data["x"], np.asarray(params["mu"])[data["group"]], 1.0)


SPEC = ModelSpec(
    name="two_groups_unpooled",
    description="Two groups (1000 + 200 points), no pooling (mu[2] ~ N(0,10))",
    params=(Param("mu", (2,)),),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("x",),
    stan_data=two_groups_stan_data,
    tags=("synthetic",),
    size_class="medium",
)
