"""Rats growth curves (posteriordb ``rats_data-rats_model``; WinBUGS Vol. 1): weights of 30 rats at 5
ages, a random intercept and slope per rat.

mu_alpha, mu_beta ~ N(0, 100); alpha[i] ~ N(mu_alpha, sigma_alpha); beta[i] ~ N(mu_beta, sigma_beta);
y[n] ~ N(alpha[rat[n]] + beta[rat[n]] (x[n] - xbar), sigma_y). sigma_y, sigma_alpha and sigma_beta
have no prior statement: flat on (0, inf), an improper prior (no prior simulator, SBC does not apply).
The program's generated quantity alpha0 = mu_alpha - xbar mu_beta is a derived quantity.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays, one_based


def prepare(raw):
    return arrays(raw, one_based=("rat",))


def derive(params, data):
    return {"alpha0": np.asarray(params["mu_alpha"]) - data["xbar"] * np.asarray(params["mu_beta"])}


def log_prior(params, data):
    # sigma_y, sigma_alpha, sigma_beta: flat on (0, inf) (harness.equivalence refuses points outside)
    return (normal_lpdf(params["mu_alpha"], 0.0, 100.0) + normal_lpdf(params["mu_beta"], 0.0, 100.0)
            + normal_lpdf(params["alpha"], params["mu_alpha"], params["sigma_alpha"])
            + normal_lpdf(params["beta"], params["mu_beta"], params["sigma_beta"]))


def log_likelihood(params, data):
    rat = data["rat"]
    mean = np.asarray(params["alpha"])[rat] + np.asarray(params["beta"])[rat] * (data["x"] - data["xbar"])
    return normal_lpdf(data["y"], mean, params["sigma_y"])


SPEC = ModelSpec(
    name="rats",
    description="Rats growth curves: random intercepts and slopes, 30 rats x 5 ages, flat scale priors "
                "(posteriordb rats_data-rats_model)",
    params=(
        Param("alpha", ("N",)),
        Param("beta", ("N",)),
        Param("mu_alpha"),
        Param("mu_beta"),
        Param("sigma_y", support="positive"),
        Param("sigma_alpha", support="positive"),
        Param("sigma_beta", support="positive"),
    ),
    derived=(Param("alpha0"),),
    derive=derive,
    data_file="data.json.zip",
    prepare_data=prepare,
    stan_data=lambda d: one_based(d, "rat"),
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("hierarchical",),
    size_class="small",
    prior="improper",
    posteriordb="rats_data-rats_model",
)
