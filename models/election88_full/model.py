"""1988 US presidential election polls, multilevel logistic regression (posteriordb ``election88-election88_full``).

y[n] ~ Bernoulli(logit^-1(beta[0] + beta[1] black + beta[2] female + beta[4] female black
+ beta[3] v_prev_full + a[age] + b[edu] + c[age_edu] + d[state] + e[region_full])),
a ~ N(0, sigma_a), b ~ N(0, sigma_b), c ~ N(0, sigma_c), d ~ N(0, sigma_d), e ~ N(0, sigma_e),
beta[k] ~ N(0, 100), sigma_* flat on (0, 100) (Stan's declared bounds, no prior statement: a proper
uniform prior). 11,566 respondents (Gelman and Hill, ch. 14).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from harness.spec import ModelSpec, Param
from models._common import bernoulli_logit_lpmf, normal_lpdf
from models._posteriordb import arrays, one_based

INDICES = ("age", "age_edu", "edu", "region_full", "state")
GROUPS = (("a", "n_age", "age"), ("b", "n_edu", "edu"), ("c", "n_age_edu", "age_edu"),
          ("d", "n_state", "state"), ("e", "n_region_full", "region_full"))


def prepare(raw):
    return arrays(raw, ints=("y",), one_based=INDICES)


def sample_prior(rng, data):
    out = {}
    sigmas = {g: rng.uniform(0.0, 100.0) for g, _, _ in GROUPS}
    for g, size, _ in GROUPS:
        out[g] = rng.normal(0.0, sigmas[g], size=data[size])
    out["beta"] = rng.normal(0.0, 100.0, size=5)
    out.update({f"sigma_{g}": s for g, s in sigmas.items()})
    return out


def _logits(params, data):
    beta = np.asarray(params["beta"])
    black, female = data["black"], data["female"]
    out = (beta[0] + beta[1] * black + beta[2] * female + beta[4] * female * black
           + beta[3] * data["v_prev_full"])
    for g, _, index in GROUPS:
        out = out + np.asarray(params[g])[data[index]]
    return out


def simulate(rng, params, data):
    p = special.expit(_logits(params, data))
    return {**data, "y": (rng.uniform(size=p.shape) < p).astype(np.int64)}


def log_prior(params, data):
    # sigma_*: uniform on (0, 100), a constant (the declared supports are enforced by the harness)
    out = normal_lpdf(params["beta"], 0.0, 100.0)
    for g, _, _ in GROUPS:
        out += normal_lpdf(params[g], 0.0, float(params[f"sigma_{g}"]))
    return out


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
    name="election88_full",
    description="1988 election polls (11,566 respondents), multilevel logistic regression with age, education, "
                "state and region effects (posteriordb election88-election88_full)",
    params=(
        Param("a", ("n_age",)),
        Param("b", ("n_edu",)),
        Param("c", ("n_age_edu",)),
        Param("d", ("n_state",)),
        Param("e", ("n_region_full",)),
        Param("beta", (5,)),
        Param("sigma_a", support="interval(0, 100)"),
        Param("sigma_b", support="interval(0, 100)"),
        Param("sigma_c", support="interval(0, 100)"),
        Param("sigma_d", support="interval(0, 100)"),
        Param("sigma_e", support="interval(0, 100)"),
    ),
    data_file="data.json.zip",
    prepare_data=prepare,
    stan_data=lambda d: one_based(d, *INDICES),
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("hierarchical", "glm"),
    size_class="large",
    posteriordb="election88-election88_full",
    known_deviation=STAN_BERNOULLI_LOGIT_DEVIATION,
)
