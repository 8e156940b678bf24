"""Log diamond prices regressed on 24 centred predictors (posteriordb ``diamonds-diamonds``, a brms 2.10.0
program), N = 5,000.

Y ~ N(Intercept + Xc b, sigma) (Stan's normal_id_glm), with Xc the columns 2..K of X centred at their
means (Stan's transformed data; computed once in ``prepare`` as the extra data entries ``Xc``, ``means_X``
and ``Kc = K - 1``, which the Stan program does not read: ``stan_data`` leaves them out). Priors, as brms
writes them: b ~ N(0, 1), Intercept ~ Student-t(3, 8, 10), sigma ~ Student-t(3, 0, 10) truncated to sigma > 0
(Stan's ``- student_t_lccdf(0 | 3, 0, 10)`` is the constant log 2, which every port and the numpy density
below include as the half-t's normalisation). The prior is proper: ``sample_prior`` and ``simulate`` (new Y
for the fixed X) make SBC possible. ``prior_only`` (0 in posteriordb's data) drops the likelihood, as in the
Stan program. Derived: ``b_Intercept = Intercept - means_X . b``, the program's generated quantity (the
intercept on the uncentred scale).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from harness.spec import ModelSpec, Param
from models._common import normal_lpdf
from models._posteriordb import arrays

EXTRA = ("Kc", "Xc", "means_X")  # derived data: not read by the Stan program


def prepare(raw):
    data = arrays(raw)
    X = data["X"]
    data["Kc"] = int(data["K"]) - 1
    data["means_X"] = X[:, 1:].mean(axis=0)
    data["Xc"] = X[:, 1:] - data["means_X"]
    return data


def stan_data(data):
    return {k: v for k, v in data.items() if k not in EXTRA}


def sample_prior(rng, data):
    return {"b": rng.normal(0.0, 1.0, size=data["Kc"]), "Intercept": 8.0 + 10.0 * rng.standard_t(3.0),
            "sigma": np.abs(10.0 * rng.standard_t(3.0))}


def _mu(params, data):
    return float(params["Intercept"]) + data["Xc"] @ np.asarray(params["b"], dtype=np.float64)


def simulate(rng, params, data):
    return {**data, "Y": rng.normal(_mu(params, data), float(params["sigma"]))}


def log_prior(params, data):
    sigma = float(params["sigma"])
    half_t = float(stats.t.logpdf(sigma, 3.0, 0.0, 10.0)) + np.log(2.0) if sigma > 0 else -np.inf
    return (normal_lpdf(params["b"], 0.0, 1.0) + float(stats.t.logpdf(float(params["Intercept"]), 3.0, 8.0, 10.0))
            + half_t)


def log_likelihood(params, data):
    if data["prior_only"]:
        return 0.0
    return normal_lpdf(data["Y"], _mu(params, data), float(params["sigma"]))


def derive(params, data):
    b = np.asarray(params["b"], dtype=np.float64)
    return {"b_Intercept": np.asarray(params["Intercept"], dtype=np.float64) - b @ data["means_X"]}


SPEC = ModelSpec(
    name="diamonds",
    description="Linear regression of 5,000 diamonds' log price on 24 centred predictors, brms priors (posteriordb diamonds-diamonds)",
    params=(Param("b", ("Kc",)), Param("Intercept"), Param("sigma", support="positive")),
    data_file="data.json.zip",
    prepare_data=prepare,
    stan_data=stan_data,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("Y",),
    rows="N",  # observations are conditionally independent rows (posterior SBC)
    derived=(Param("b_Intercept"),),
    derive=derive,
    tags=("glm",),
    size_class="medium",
    posteriordb="diamonds-diamonds",
)
