"""Two-parameter logistic item response model (posteriordb ``irt_2pl-irt_2pl``).

y[i, j] ~ Bernoulli(logit^-1(a[i] (theta[j] - b[i]))) for item i and person j;
theta[j] ~ N(0, sigma_theta), a[i] ~ LogNormal(0, sigma_a), b[i] ~ N(mu_b, sigma_b), mu_b ~ N(0, 5),
sigma_theta, sigma_a, sigma_b ~ HalfCauchy(2). 20 items, 100 persons (simulated responses).

The prior is proper, but no prior simulator is declared (SBC: "no prior simulator"): a = exp(sigma_a z)
with sigma_a ~ HalfCauchy(2) leaves float64 (a = inf or 0) in about 0.4% of prior draws, in every
backend's own prior sampler too, so prior draws cannot be compared (tests/test_prior.py requires finite
draws) and SBC replicates with such draws are meaningless. ``sample_prior`` and ``simulate`` below are
the numpy prior and likelihood, kept for reference but not declared in SPEC.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from harness.spec import ModelSpec, Param
from models._common import bernoulli_logit_lpmf, half_cauchy_lpdf, lognormal_lpdf, normal_lpdf
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw, ints=("y",))


def sample_prior(rng, data):
    sigma_theta = np.abs(2.0 * rng.standard_cauchy())
    sigma_a = np.abs(2.0 * rng.standard_cauchy())
    mu_b = rng.normal(0.0, 5.0)
    sigma_b = np.abs(2.0 * rng.standard_cauchy())
    return {
        "sigma_theta": sigma_theta,
        "theta": rng.normal(0.0, sigma_theta, size=data["J"]),
        "sigma_a": sigma_a,
        "a": np.exp(rng.normal(0.0, sigma_a, size=data["I"])),
        "mu_b": mu_b,
        "sigma_b": sigma_b,
        "b": rng.normal(mu_b, sigma_b, size=data["I"]),
    }


def _logits(params, data):
    a, b, theta = (np.asarray(params[k]) for k in ("a", "b", "theta"))
    return a[:, None] * (theta[None, :] - b[:, None])


def simulate(rng, params, data):
    p = special.expit(_logits(params, data))
    return {**data, "y": (rng.uniform(size=p.shape) < p).astype(np.int64)}


def log_prior(params, data):
    # the half-Cauchy priors are Stan's cauchy(0, 2) on a positive parameter (constants dropped)
    return (half_cauchy_lpdf(params["sigma_theta"], 2.0)
            + normal_lpdf(params["theta"], 0.0, float(params["sigma_theta"]))
            + half_cauchy_lpdf(params["sigma_a"], 2.0)
            + lognormal_lpdf(params["a"], 0.0, float(params["sigma_a"]))
            + normal_lpdf(params["mu_b"], 0.0, 5.0)
            + half_cauchy_lpdf(params["sigma_b"], 2.0)
            + normal_lpdf(params["b"], float(params["mu_b"]), float(params["sigma_b"])))


def log_likelihood(params, data):
    return bernoulli_logit_lpmf(data["y"], _logits(params, data))


# Stan Math's bernoulli_logit_lpmf (CmdStan 2.35, httpstan 4.x / Stan 2.39) cuts off at |logit| = 20: per
# observation its value is off by at most exp(-20) and its derivative in the logit by at most 2 exp(-20) =
# 4.13e-9 (README.md, "Known difference from Stan's gradient")
STAN_BERNOULLI_LOGIT_DEVIATION = {
    "stan": (4.2e-9, "Stan Math bernoulli_logit_lpmf (CmdStan 2.35, Stan 2.39) past |logit| 20: the partial is "
                     "-exp(-ntheta) for ntheta = (2y-1) logit > 20, the wrong sign when y = 1 (stan-dev/math PR "
                     "#3397), and log1p(exp(ntheta)) is dropped from the value for ntheta < -20; per observation at "
                     "most exp(-20) in the value and 2 exp(-20) in the derivative"),
}


SPEC = ModelSpec(
    name="irt_2pl",
    description="Two-parameter logistic IRT, 20 items x 100 persons, hierarchical priors (posteriordb irt_2pl-irt_2pl)",
    params=(
        Param("sigma_theta", support="positive"),
        Param("theta", ("J",)),
        Param("sigma_a", support="positive"),
        Param("a", ("I",), "positive"),
        Param("mu_b"),
        Param("sigma_b", support="positive"),
        Param("b", ("I",)),
    ),
    data_file="data.json.zip",
    prepare_data=prepare,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("hierarchical", "irt"),
    size_class="medium",
    posteriordb="irt_2pl-irt_2pl",
    known_deviation=STAN_BERNOULLI_LOGIT_DEVIATION,
)
