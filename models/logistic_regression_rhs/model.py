"""Logistic regression with the regularised horseshoe prior (posteriordb
``ovarian-logistic_regression_rhs``; Piironen and Vehtari 2017): 54 ovarian-cancer patients, 1,536
gene-expression predictors.

beta0 ~ N(0, scale_icept); z[j] ~ N(0, 1); lambda[j] ~ half-t(nu_local, 0, 1);
tau ~ half-t(nu_global, 0, 2 scale_global); caux ~ InvGamma(slab_df / 2, slab_df / 2);
c = slab_scale sqrt(caux); lambda_tilde = sqrt(c^2 lambda^2 / (c^2 + tau^2 lambda^2));
beta = z lambda_tilde tau (a transformed parameter, declared derived);
y[i] ~ Bernoulli(logit^-1(beta0 + x[i] beta)). (The data have nu_local = nu_global = 1: half-Cauchy.)
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from harness.spec import ModelSpec, Param
from models._common import bernoulli_logit_lpmf, normal_lpdf
from models._posteriordb import arrays


def prepare(raw):
    return arrays(raw, ints=("y",))


def sample_prior(rng, data):
    d, half_df = data["d"], 0.5 * data["slab_df"]
    return {
        "beta0": rng.normal(0.0, data["scale_icept"]),
        "z": rng.normal(0.0, 1.0, d),
        "tau": np.abs(rng.standard_t(data["nu_global"])) * 2.0 * data["scale_global"],
        "lambda": np.abs(rng.standard_t(data["nu_local"], d)),
        "caux": 1.0 / rng.gamma(half_df, 1.0 / half_df),
    }


def derive(params, data):
    tau, caux = np.asarray(params["tau"])[..., None], np.asarray(params["caux"])[..., None]
    lam = np.asarray(params["lambda"])
    c2 = (data["slab_scale"] * np.sqrt(caux)) ** 2
    lambda_tilde = np.sqrt(c2 * lam ** 2 / (c2 + tau ** 2 * lam ** 2))
    return {"beta": np.asarray(params["z"]) * lambda_tilde * tau}


def _logits(params, data):
    return params["beta0"] + data["x"] @ derive(params, data)["beta"]


def simulate(rng, params, data):
    p = special.expit(_logits(params, data))
    return {**data, "y": (rng.uniform(size=p.shape) < p).astype(np.int64)}


def log_prior(params, data):
    # half-t priors: the t density on (0, inf); the truncation's constant log 2 is dropped
    half_df = 0.5 * data["slab_df"]
    return (normal_lpdf(params["z"], 0.0, 1.0)
            + float(np.sum(stats.t.logpdf(params["lambda"], data["nu_local"], 0.0, 1.0)))
            + float(stats.t.logpdf(params["tau"], data["nu_global"], 0.0, 2.0 * data["scale_global"]))
            + float(stats.invgamma.logpdf(params["caux"], half_df, scale=half_df))
            + normal_lpdf(params["beta0"], 0.0, data["scale_icept"]))


def log_likelihood(params, data):
    return bernoulli_logit_lpmf(data["y"], _logits(params, data))


SPEC = ModelSpec(
    name="logistic_regression_rhs",
    description="Logistic regression, regularised horseshoe prior, 54 patients x 1,536 genes "
                "(posteriordb ovarian-logistic_regression_rhs)",
    params=(
        Param("beta0"),
        Param("z", ("d",)),
        Param("tau", support="positive"),
        Param("lambda", ("d",), "positive"),
        Param("caux", support="positive"),
    ),
    derived=(Param("beta", ("d",)),),
    derive=derive,
    data_file="data.json.zip",
    prepare_data=prepare,
    sample_prior=sample_prior,
    simulate=simulate,
    log_prior=log_prior,
    log_likelihood=log_likelihood,
    observed=("y",),
    tags=("glm", "sparse"),
    size_class="large",
    posteriordb="ovarian-logistic_regression_rhs",
)
