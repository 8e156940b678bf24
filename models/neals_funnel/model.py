"""Neal's funnel in 10 dimensions: v ~ N(0, 3), x[i] ~ N(0, exp(v / 2)) for i = 0..8.

No data are observed: the posterior is the prior, known exactly (``exact_posterior`` draws it
independently), and the funnel's neck (v << 0, where the x scale shrinks as exp(v / 2)) is what makes
it hard for a sampler with one step size. ``N`` (= 9, the number of x's) is the only data entry.
SBC does not apply: nothing is observed.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf

N_X = 9  # x's; with v, 10 dimensions


def make_data(rng):
    return {"N": N_X}


def sample_prior(rng, data):
    v = rng.normal(0.0, 3.0)
    return {"v": v, "x": rng.normal(0.0, 1.0, size=data["N"]) * np.exp(v / 2.0)}


def simulate(rng, params, data):
    return dict(data)  # nothing is observed


def exact_posterior(rng, data, n):
    v = rng.normal(0.0, 3.0, size=n)
    return {"v": v, "x": rng.normal(0.0, 1.0, size=(n, data["N"])) * np.exp(v / 2.0)[:, None]}


def log_prior(params, data):
    v = float(params["v"])
    return normal_lpdf(v, 0.0, 3.0) + normal_lpdf(params["x"], 0.0, np.exp(v / 2.0))


def log_likelihood(params, data):
    return 0.0


SPEC = ModelSpec(
    name="neals_funnel",
    description="Neal's funnel, 10 dimensions (v ~ N(0,3), x[9] ~ N(0, exp(v/2))), no data: exact posterior",
    params=(Param("v"), Param("x", ("N",))),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    exact_posterior=exact_posterior,
    observed=(),
    tags=("synthetic", "funnel"),
    size_class="small",
)
