"""GARCH(1,1) (posteriordb ``garch-garch11``): y[t] ~ N(mu, sigma[t]),
sigma[t]^2 = alpha0 + alpha1 (y[t-1] - mu)^2 + beta1 sigma[t-1]^2, sigma[0] = sigma1 (data).

Flat priors, as in posteriordb's program: mu on the real line, alpha0 > 0, alpha1 in (0, 1) and
beta1 in (0, 1 - alpha1) (a bound that moves with alpha1). The prior is improper, so there is no prior
simulator and SBC does not apply.
"""

from __future__ import annotations

import numpy as np

from harness.spec import ModelSpec, Param
from harness.supports import Interval
from models._common import normal_lpdf
from models._posteriordb import arrays


def beta1_upper(params, data):
    """1 - alpha1"""
    return 1.0 - np.asarray(params["alpha1"], dtype=np.float64)


def prepare(raw):
    return arrays(raw)


def sigmas(params, data):
    """The conditional scale sigma (T,) at one point."""
    y = data["y"]
    mu, alpha0, alpha1, beta1 = (float(params[k]) for k in ("mu", "alpha0", "alpha1", "beta1"))
    out = np.empty(len(y))
    out[0] = data["sigma1"]
    for t in range(1, len(y)):
        out[t] = np.sqrt(alpha0 + alpha1 * (y[t - 1] - mu) ** 2 + beta1 * out[t - 1] ** 2)
    return out


def log_prior(params, data):
    return 0.0  # flat on the declared supports (harness.equivalence refuses points outside them)


def log_likelihood(params, data):
    return normal_lpdf(data["y"], float(params["mu"]), sigmas(params, data))


SPEC = ModelSpec(
    name="garch11",
    description="GARCH(1,1) volatility model, 200 simulated observations, flat priors (posteriordb garch-garch11)",
    params=(
        Param("mu"),
        Param("alpha0", support="positive"),
        Param("alpha1", support="interval(0, 1)"),
        Param("beta1", support=Interval(lower=0.0, upper=beta1_upper)),
    ),
    data_file="data.json.zip",
    prepare_data=prepare,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("time-series",),
    size_class="small",
    prior="improper",
    posteriordb="garch-garch11",
    not_implemented={"pyro": "Pyro's NUTS fixes each parameter's unconstraining transform when it initialises "
                             "(pyro.infer.mcmc.util.initialize_model), so beta1's bound 1 - alpha1, which moves with "
                             "alpha1, cannot be sampled correctly (the equivalence check showed a different potential)"},
)
