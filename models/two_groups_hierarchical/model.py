"""Two groups, partial pooling: group means drawn around a global mean.

mu_glob ~ N(1, 0.1); mu[g] ~ N(mu_glob, 0.1), g = 0, 1; x[n] ~ N(mu[group[n]], 1).
Same data as ``two_groups_pooled``.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf, two_groups_data, two_groups_stan_data


def make_data(rng):
    return two_groups_data(rng)


def sample_prior(rng, data):
    mu_glob = rng.normal(1.0, 0.1)
    return {"mu_glob": mu_glob, "mu": rng.normal(mu_glob, 0.1, size=2)}


def simulate(rng, params, data):
    return {**data, "x": rng.normal(np.asarray(params["mu"])[data["group"]], 1.0)}


def log_prior(params, data):
    return normal_lpdf(params["mu_glob"], 1.0, 0.1) + normal_lpdf(params["mu"], params["mu_glob"], 0.1)


def log_likelihood(params, data):
    return normal_lpdf(data["x"], np.asarray(params["mu"])[data["group"]], 1.0)


SPEC = ModelSpec(
    name="two_groups_hierarchical",
    description="Two groups (1000 + 200 points), partial pooling (mu_glob ~ N(1,0.1), mu[2] ~ N(mu_glob,0.1))",
    params=(Param("mu_glob"), Param("mu", (2,))),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("x",),
    stan_data=two_groups_stan_data,
    tags=("hierarchical", "synthetic"),
    size_class="medium",
)
