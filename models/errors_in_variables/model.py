"""Errors in variables: noisy known weights, likelihood as a custom log-density term.

x_noise_lvl ~ LogNormal(-1, 0.5); w_noise_lvl ~ LogNormal(-1.5, 0.5); w_noise[m] ~ N(0, 1);
w_ = w * (1 + w_noise * w_noise_lvl); y ~ N(x^T w_, x_noise_lvl * |sum(w_)|), added with
``target +=`` / Potential / factor, never as an observed distribution.
Data: x (M, N) standard normal, w (M,) known positive weights, M = 3; y simulated at fixed true values.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import lognormal_lpdf, normal_lpdf

M = 3


def make_data(rng, N):
    w = rng.uniform(0.5, 2.0, size=M)
    truth = {"x_noise_lvl": np.exp(-1.0), "w_noise_lvl": np.exp(-1.5), "w_noise": rng.normal(0.0, 1.0, size=M)}
    data = {"M": M, "N": int(N), "x": rng.normal(0.0, 1.0, size=(M, int(N))), "w": w}
    return simulate(rng, truth, data)


def sample_prior(rng, data):
    return {
        "x_noise_lvl": rng.lognormal(-1.0, 0.5),
        "w_noise_lvl": rng.lognormal(-1.5, 0.5),
        "w_noise": rng.normal(0.0, 1.0, size=data["M"]),
    }


def _loc_scale(params, data):
    w_ = data["w"] * (1.0 + np.asarray(params["w_noise"]) * params["w_noise_lvl"])
    return data["x"].T @ w_, params["x_noise_lvl"] * np.abs(np.sum(w_))


def simulate(rng, params, data):
    loc, scale = _loc_scale(params, data)
    return {**data, "y": rng.normal(loc, scale)}


def log_prior(params, data):
    return (
        lognormal_lpdf(params["x_noise_lvl"], -1.0, 0.5)
        + lognormal_lpdf(params["w_noise_lvl"], -1.5, 0.5)
        + normal_lpdf(params["w_noise"], 0.0, 1.0)
    )


def log_likelihood(params, data):
    loc, scale = _loc_scale(params, data)
    return normal_lpdf(data["y"], loc, scale)


SPEC = ModelSpec(
    name="errors_in_variables",
    description="Errors in variables with noisy weights; likelihood as a custom log-density term",
    params=(
        Param("x_noise_lvl", support="positive"),
        Param("w_noise_lvl", support="positive"),
        Param("w_noise", ("M",)),
    ),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    size_defaults={"N": 100},
    tags=("glm",),
    size_class="small",
)
