"""Normal mean with known unit noise.

mu ~ N(0, 10); x[k] ~ N(mu, 1), k = 1..K (data simulated with true mu = 1).
"""

from __future__ import annotations

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf


def make_data(rng, K):
    return {"K": int(K), "x": rng.normal(1.0, 1.0, size=int(K))}


def sample_prior(rng, data):
    return {"mu": rng.normal(0.0, 10.0)}


def simulate(rng, params, data):
    return {**data, "x": rng.normal(params["mu"], 1.0, size=data["K"])}


def log_prior(params, data):
    return normal_lpdf(params["mu"], 0.0, 10.0)


def log_likelihood(params, data):
    return normal_lpdf(data["x"], params["mu"], 1.0)


SPEC = ModelSpec(
    name="normal_mean",
    description="Normal mean with known unit noise (mu ~ N(0,10), K observations)",
    params=(Param("mu"),),
    make_data=make_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("x",),
    rows="K",  # observations are conditionally independent rows (posterior SBC)
    size_defaults={"K": 1000},
    tags=("synthetic",),
    size_class="small",
)
