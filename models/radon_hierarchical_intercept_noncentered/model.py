"""Radon, hierarchical intercept, non-centred (posteriordb ``radon_mn-radon_hierarchical_intercept_noncentered``).

alpha = mu_alpha + sigma_alpha * alpha_raw, alpha_raw[j] ~ N(0, 1); mu_alpha ~ N(0, 10);
sigma_alpha ~ HalfNormal(1); beta[k] ~ N(0, 10); sigma_y ~ HalfNormal(1);
log_radon[n] ~ N(alpha[county[n]] + log_uppm[n] beta[0] + floor[n] beta[1], sigma_y).
Minnesota radon data: 919 houses in 85 counties.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays, one_based


def prepare(raw):
    return arrays(raw, one_based=("county_idx",))


def sample_prior(rng, data):
    return {
        "alpha_raw": rng.normal(0.0, 1.0, size=data["J"]),
        "beta": rng.normal(0.0, 10.0, size=2),
        "mu_alpha": rng.normal(0.0, 10.0),
        "sigma_alpha": np.abs(rng.normal(0.0, 1.0)),
        "sigma_y": np.abs(rng.normal(0.0, 1.0)),
    }


def derive(params, data):
    mu, sigma = np.asarray(params["mu_alpha"]), np.asarray(params["sigma_alpha"])
    return {"alpha": mu[..., None] + sigma[..., None] * np.asarray(params["alpha_raw"])}


def _mean(params, data):
    alpha = derive(params, data)["alpha"]
    beta = np.asarray(params["beta"])
    return alpha[data["county_idx"]] + data["log_uppm"] * beta[0] + data["floor_measure"] * beta[1]


def simulate(rng, params, data):
    return {**data, "log_radon": rng.normal(_mean(params, data), params["sigma_y"])}


def log_prior(params, data):
    # the half-normals' constants (log 2 each) are dropped
    return (normal_lpdf(params["sigma_alpha"], 0.0, 1.0) + normal_lpdf(params["sigma_y"], 0.0, 1.0)
            + normal_lpdf(params["mu_alpha"], 0.0, 10.0) + normal_lpdf(params["beta"], 0.0, 10.0)
            + normal_lpdf(params["alpha_raw"], 0.0, 1.0))


def log_likelihood(params, data):
    return normal_lpdf(data["log_radon"], _mean(params, data), float(params["sigma_y"]))


SPEC = ModelSpec(
    name="radon_hierarchical_intercept_noncentered",
    description="Radon (Minnesota, 919 houses, 85 counties), hierarchical intercept, non-centred, "
                "uranium and floor slopes (posteriordb)",
    params=(
        Param("alpha_raw", ("J",)),
        Param("beta", (2,)),
        Param("mu_alpha"),
        Param("sigma_alpha", support="positive"),
        Param("sigma_y", support="positive"),
    ),
    derived=(Param("alpha", ("J",)),),
    derive=derive,
    data_file="data.json.zip",
    prepare_data=prepare,
    stan_data=lambda d: one_based(d, "county_idx"),
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("log_radon",),
    rows="N",  # observations are conditionally independent rows (posterior SBC)
    tags=("hierarchical", "glm"),
    size_class="small",
    posteriordb="radon_mn-radon_hierarchical_intercept_noncentered",
)
