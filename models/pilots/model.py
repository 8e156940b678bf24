"""Pilots flight-simulator scores (posteriordb ``pilots-pilots``; Gelman and Hill): a two-way crossed
random-effects model, 40 observations of 5 groups x 8 scenarios.

mu_a, mu_b ~ N(0, 1); a[g] ~ N(10 mu_a, sigma_a); b[s] ~ N(10 mu_b, sigma_b);
y[i] ~ N(a[group_id[i]] + b[scenario_id[i]], sigma_y). sigma_a, sigma_b, sigma_y are declared on
(0, 100) with no prior statement: uniform on (0, 100), a proper prior.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf, uniform_lpdf
from models._posteriordb import arrays, one_based


def prepare(raw):
    return arrays(raw, one_based=("group_id", "scenario_id"))


def sample_prior(rng, data):
    mu_a, mu_b = rng.normal(0.0, 1.0), rng.normal(0.0, 1.0)
    sigma_a, sigma_b, sigma_y = rng.uniform(0.0, 100.0, 3)
    return {"a": rng.normal(10.0 * mu_a, sigma_a, data["n_groups"]),
            "b": rng.normal(10.0 * mu_b, sigma_b, data["n_scenarios"]),
            "mu_a": mu_a, "mu_b": mu_b, "sigma_a": sigma_a, "sigma_b": sigma_b, "sigma_y": sigma_y}


def _y_hat(params, data):
    return np.asarray(params["a"])[data["group_id"]] + np.asarray(params["b"])[data["scenario_id"]]


def simulate(rng, params, data):
    return {**data, "y": rng.normal(_y_hat(params, data), params["sigma_y"])}


def log_prior(params, data):
    return (normal_lpdf(params["mu_a"], 0.0, 1.0) + normal_lpdf(params["a"], 10.0 * params["mu_a"], params["sigma_a"])
            + normal_lpdf(params["mu_b"], 0.0, 1.0) + normal_lpdf(params["b"], 10.0 * params["mu_b"], params["sigma_b"])
            + sum(uniform_lpdf(params[k], 0.0, 100.0) for k in ("sigma_a", "sigma_b", "sigma_y")))


def log_likelihood(params, data):
    return normal_lpdf(data["y"], _y_hat(params, data), params["sigma_y"])


SPEC = ModelSpec(
    name="pilots",
    description="Pilots: crossed group and scenario effects, 40 observations, U(0,100) scales (posteriordb pilots-pilots)",
    params=(
        Param("a", ("n_groups",)),
        Param("b", ("n_scenarios",)),
        Param("mu_a"),
        Param("mu_b"),
        Param("sigma_a", support="interval(0, 100)"),
        Param("sigma_b", support="interval(0, 100)"),
        Param("sigma_y", support="interval(0, 100)"),
    ),
    data_file="data.json.zip",
    prepare_data=prepare,
    stan_data=lambda d: one_based(d, "group_id", "scenario_id"),
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("hierarchical",),
    size_class="small",
    posteriordb="pilots-pilots",
)
