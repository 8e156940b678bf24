"""Radon, varying intercept, centred, all states (posteriordb ``radon_all-radon_variable_intercept_centered``).

alpha[j] ~ N(mu_alpha, sigma_alpha); mu_alpha ~ N(0, 10); sigma_alpha ~ HalfNormal(1); beta ~ N(0, 10);
sigma_y ~ HalfNormal(1); log_radon[n] ~ N(alpha[county[n]] + floor[n] beta, sigma_y).
US radon data: 12,573 houses in 386 counties.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays, one_based


def prepare(raw):
    return arrays(raw, one_based=("county_idx",))


def sample_prior(rng, data):
    mu_alpha = rng.normal(0.0, 10.0)
    sigma_alpha = np.abs(rng.normal(0.0, 1.0))
    return {
        "alpha": rng.normal(mu_alpha, sigma_alpha, size=data["J"]),
        "beta": rng.normal(0.0, 10.0),
        "mu_alpha": mu_alpha,
        "sigma_alpha": sigma_alpha,
        "sigma_y": np.abs(rng.normal(0.0, 1.0)),
    }


def _mean(params, data):
    return np.asarray(params["alpha"])[data["county_idx"]] + data["floor_measure"] * float(params["beta"])


def simulate(rng, params, data):
    return {**data, "log_radon": rng.normal(_mean(params, data), params["sigma_y"])}


def log_prior(params, data):
    # the half-normals' constants (log 2 each) are dropped
    return (normal_lpdf(params["sigma_y"], 0.0, 1.0) + normal_lpdf(params["sigma_alpha"], 0.0, 1.0)
            + normal_lpdf(params["mu_alpha"], 0.0, 10.0) + normal_lpdf(params["beta"], 0.0, 10.0)
            + normal_lpdf(params["alpha"], float(params["mu_alpha"]), float(params["sigma_alpha"])))


def log_likelihood(params, data):
    return normal_lpdf(data["log_radon"], _mean(params, data), float(params["sigma_y"]))


SPEC = ModelSpec(
    name="radon_variable_intercept_centered",
    description="Radon (all states, 12,573 houses, 386 counties), varying intercept, centred, floor slope "
                "(posteriordb)",
    params=(
        Param("alpha", ("J",)),
        Param("beta"),
        Param("mu_alpha"),
        Param("sigma_alpha", support="positive"),
        Param("sigma_y", support="positive"),
    ),
    data_file="data.json.zip",
    prepare_data=prepare,
    stan_data=lambda d: one_based(d, "county_idx"),
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("log_radon",),
    tags=("hierarchical", "glm"),
    size_class="large",
    posteriordb="radon_all-radon_variable_intercept_centered",
)
