"""Radon, varying intercept and floor slope, non-centred (posteriordb
``radon_mn-radon_variable_intercept_slope_noncentered``).

alpha = mu_alpha + sigma_alpha * alpha_raw, beta = mu_beta + sigma_beta * beta_raw, alpha_raw[j],
beta_raw[j] ~ N(0, 1); mu_alpha, mu_beta ~ N(0, 10); sigma_y, sigma_alpha, sigma_beta ~ HalfNormal(1);
log_radon[n] ~ N(alpha[county[n]] + floor[n] beta[county[n]], sigma_y).
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
        "sigma_y": np.abs(rng.normal(0.0, 1.0)),
        "sigma_alpha": np.abs(rng.normal(0.0, 1.0)),
        "sigma_beta": np.abs(rng.normal(0.0, 1.0)),
        "alpha_raw": rng.normal(0.0, 1.0, size=data["J"]),
        "beta_raw": rng.normal(0.0, 1.0, size=data["J"]),
        "mu_alpha": rng.normal(0.0, 10.0),
        "mu_beta": rng.normal(0.0, 10.0),
    }


def derive(params, data):
    def scaled(mu, sigma, raw):
        mu, sigma = np.asarray(params[mu]), np.asarray(params[sigma])
        return mu[..., None] + sigma[..., None] * np.asarray(params[raw])

    return {"alpha": scaled("mu_alpha", "sigma_alpha", "alpha_raw"),
            "beta": scaled("mu_beta", "sigma_beta", "beta_raw")}


def _mean(params, data):
    d = derive(params, data)
    county = data["county_idx"]
    return d["alpha"][county] + data["floor_measure"] * d["beta"][county]


def simulate(rng, params, data):
    return {**data, "log_radon": rng.normal(_mean(params, data), params["sigma_y"])}


def log_prior(params, data):
    # the half-normals' constants (log 2 each) are dropped
    return (normal_lpdf(params["sigma_y"], 0.0, 1.0) + normal_lpdf(params["sigma_beta"], 0.0, 1.0)
            + normal_lpdf(params["sigma_alpha"], 0.0, 1.0) + normal_lpdf(params["mu_alpha"], 0.0, 10.0)
            + normal_lpdf(params["mu_beta"], 0.0, 10.0) + normal_lpdf(params["alpha_raw"], 0.0, 1.0)
            + normal_lpdf(params["beta_raw"], 0.0, 1.0))


def log_likelihood(params, data):
    return normal_lpdf(data["log_radon"], _mean(params, data), float(params["sigma_y"]))


SPEC = ModelSpec(
    name="radon_variable_intercept_slope_noncentered",
    description="Radon (Minnesota, 919 houses, 85 counties), varying intercept and floor slope, non-centred "
                "(posteriordb)",
    params=(
        Param("sigma_y", support="positive"),
        Param("sigma_alpha", support="positive"),
        Param("sigma_beta", support="positive"),
        Param("alpha_raw", ("J",)),
        Param("beta_raw", ("J",)),
        Param("mu_alpha"),
        Param("mu_beta"),
    ),
    derived=(Param("alpha", ("J",)), Param("beta", ("J",))),
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
    size_class="medium",
    posteriordb="radon_mn-radon_variable_intercept_slope_noncentered",
)
