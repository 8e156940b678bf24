"""Poisson GLMM of a population trend (posteriordb ``GLMM_Poisson_data-GLMM_Poisson_model``; Kery and
Schaub 2011, BPA chapter 6): counts C[t] of 40 years, a cubic polynomial in the (standardised) year
plus a normal random year effect.

log lambda[t] = alpha + beta1 year[t] + beta2 year[t]^2 + beta3 year[t]^3 + eps[t];
C[t] ~ Poisson(lambda[t]); eps[t] ~ N(0, sigma).
Priors as in the program: alpha ~ U(-20, 20), beta1, beta3 ~ U(-10, 10), sigma ~ U(0, 5), each on its
declared support; beta2 is declared on (-10, 20) but given ``beta2 ~ uniform(-10, 10)``. Stan's
``uniform_lpdf`` returns -inf for beta2 > 10 (``LOG_ZERO``; the sampler rejects those points), so the
density here is -inf on (10, 20): beta2's support (and unconstraining transform) is Stan's (-10, 20),
its prior mass lies on (-10, 10). lambda = exp(log_lambda) is a generated quantity (derived).

No simulator (SBC does not apply): under this prior the largest log rate of the 40 years exceeds 43.6 in
23% of draws (median 25), rates whose Poisson counts do not fit in int64 (numpy refuses them).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf, uniform_lpdf
from models._posteriordb import arrays

UNIFORM_PRIORS = {"alpha": (-20.0, 20.0), "beta1": (-10.0, 10.0), "beta2": (-10.0, 10.0), "beta3": (-10.0, 10.0),
                  "sigma": (0.0, 5.0)}


def prepare(raw):
    return arrays(raw, ints=("C",))


def sample_prior(rng, data):
    out = {k: rng.uniform(lo, hi) for k, (lo, hi) in UNIFORM_PRIORS.items()}
    out["eps"] = rng.normal(0.0, out["sigma"], data["n"])
    return {k: out[k] for k in ("alpha", "beta1", "beta2", "beta3", "eps", "sigma")}


def _log_lambda(params, data):
    year = data["year"]
    return (np.asarray(params["alpha"])[..., None] + np.asarray(params["beta1"])[..., None] * year
            + np.asarray(params["beta2"])[..., None] * (year * year)
            + np.asarray(params["beta3"])[..., None] * (year * year * year) + np.asarray(params["eps"]))


def derive(params, data):
    return {"lambda": np.exp(_log_lambda(params, data))}


def log_prior(params, data):
    # uniform_lpdf is -inf outside its bounds: beta2 in (10, 20), inside its declared support, gets -inf
    return (sum(uniform_lpdf(params[k], lo, hi) for k, (lo, hi) in UNIFORM_PRIORS.items())
            + normal_lpdf(params["eps"], 0.0, params["sigma"]))


def log_likelihood(params, data):
    eta, counts = _log_lambda(params, data), data["C"]
    return float(np.sum(counts * eta - np.exp(eta) - special.gammaln(counts + 1)))


SPEC = ModelSpec(
    name="glmm_poisson",
    description="Poisson GLMM: cubic year trend plus random year effects, 40 counts, uniform priors "
                "(posteriordb GLMM_Poisson_data-GLMM_Poisson_model)",
    params=(
        Param("alpha", support="interval(-20, 20)"),
        Param("beta1", support="interval(-10, 10)"),
        Param("beta2", support="interval(-10, 20)"),
        Param("beta3", support="interval(-10, 10)"),
        Param("eps", ("n",)),
        Param("sigma", support="interval(0, 5)"),
    ),
    derived=(Param("lambda", ("n",)),),
    derive=derive,
    data_file="data.json.zip",
    prepare_data=prepare,
    sample_prior=sample_prior,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("C",),
    tags=("hierarchical", "glm"),
    size_class="small",
    posteriordb="GLMM_Poisson_data-GLMM_Poisson_model",
)
